import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { Command, InvalidArgumentError } from 'commander'
import type { ClassMapInput } from '@common/audit'
import { AppError } from '@common/errors'
import { parseJsonText } from '@common/jsonText'

/**
 * --class-map, for a model whose class names are not all the dataset's: `model=dataset` pairs (comma-separated,
 * repeatable) or a JSON file, either `{"model class": "dataset class", …}` or `[{"model": …, "dataset": …}]`.
 * Classes are named (case-insensitive) or given by id.
 */
type ClassMapArg = { pairs: ClassMapInput } | { file: string }

function parseArg(value: string, previous: ClassMapArg[] = []): ClassMapArg[] {
  // Resolved against the shell's folder now, as every path the CLI hands on (services take absolute paths).
  if (/\.json$/i.test(value.trim())) return [...previous, { file: resolve(value.trim()) }]
  const pairs = value.split(',').map((pair) => {
    const i = pair.indexOf('=')
    const model = pair.slice(0, i).trim()
    const dataset = pair.slice(i + 1).trim()
    if (i <= 0 || !model || !dataset) throw new InvalidArgumentError(`"${pair.trim()}" is not model=dataset (or give a .json file)`)
    return { model, dataset }
  })
  return [...previous, { pairs }]
}

export function addClassMapOption(command: Command): Command {
  return command.option(
    '--class-map <pairs|file.json>',
    "which dataset class each model class counts as, when the names differ: model=dataset pairs, comma-separated (repeatable), or a JSON file {\"model\": \"dataset\"}",
    parseArg
  )
}

function readMapFile(file: string): ClassMapInput {
  const path = resolve(file)
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new AppError('INVALID_PARAMETERS', `--class-map ${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`, { flag: 'class-map', path })
  }
  // The shared reader says where the JSON breaks without quoting the file.
  const parsed = parseJsonText(text)
  if (!parsed.ok) throw new AppError('INVALID_PARAMETERS', `--class-map ${path} ${parsed.problem}`, { flag: 'class-map', path })
  const raw = parsed.value
  const entries = Array.isArray(raw) ? raw : typeof raw === 'object' && raw !== null ? Object.entries(raw).map(([model, dataset]) => ({ model, dataset })) : null
  const ok = entries?.every((e) => typeof e === 'object' && e !== null && typeof e.model === 'string' && typeof e.dataset === 'string')
  if (!entries || entries.length === 0 || !ok) {
    throw new AppError('INVALID_PARAMETERS', `--class-map ${path}: expected {"model class": "dataset class", …} or [{"model": …, "dataset": …}] with string names`, {
      flag: 'class-map',
      path
    })
  }
  return (entries as { model: string; dataset: string }[]).map(({ model, dataset }) => ({ model, dataset }))
}

/** The class map the options give, files read now; undefined without --class-map. */
export function classMapFrom(args: ClassMapArg[] | undefined): ClassMapInput | undefined {
  if (!args || args.length === 0) return undefined
  return args.flatMap((a) => ('file' in a ? readMapFile(a.file) : a.pairs))
}
