import { z } from 'zod'
import { isAbsolutePath, RELATIVE_PATH_HINT } from './absolutePath'
import { AppError } from './errors'
import { parseJsonText } from './jsonText'
import { NormalisationSchema, type Normalisation } from './modelSidecar'
import { ClassDefSchema, type ClassDef } from './types'

/**
 * A model as its user describes it: which class each output channel is, the input size, how pixels are normalised,
 * whether the output is logits or probabilities, and the tensor layout. The same flags serve every command that
 * takes `--model` and the Add-model dialog; each malformed value is an INVALID_PARAMETERS error naming its flag.
 * Parsing here is pure (no file access), so the renderer can check what a user types before sending it.
 */

export const OUTPUT_KINDS = ['logits', 'probabilities'] as const
export const OutputKindSchema = z.enum(OUTPUT_KINDS)
export type OutputKind = z.infer<typeof OutputKindSchema>

export const LAYOUTS = ['NCHW', 'NHWC'] as const
export const LayoutSchema = z.enum(LAYOUTS)
export type Layout = z.infer<typeof LayoutSchema>

export const InputSizeSchema = z.object({
  height: z.number().int().positive(),
  width: z.number().int().positive(),
  channels: z.number().int().positive()
})
export type InputSize = z.infer<typeof InputSizeSchema>

// ---- class presets ----------------------------------------------------------------------------------------

type Rgb = [number, number, number]

/** Cityscapes' 19 training ids with the names and colours of cityscapesScripts' labels.py; 255 is its ignore id. */
const CITYSCAPES: [string, Rgb][] = [
  ['road', [128, 64, 128]],
  ['sidewalk', [244, 35, 232]],
  ['building', [70, 70, 70]],
  ['wall', [102, 102, 156]],
  ['fence', [190, 153, 153]],
  ['pole', [153, 153, 153]],
  ['traffic light', [250, 170, 30]],
  ['traffic sign', [220, 220, 0]],
  ['vegetation', [107, 142, 35]],
  ['terrain', [152, 251, 152]],
  ['sky', [70, 130, 180]],
  ['person', [220, 20, 60]],
  ['rider', [255, 0, 0]],
  ['car', [0, 0, 142]],
  ['truck', [0, 0, 70]],
  ['bus', [0, 60, 100]],
  ['train', [0, 80, 100]],
  ['motorcycle', [0, 0, 230]],
  ['bicycle', [119, 11, 32]]
]

const VOC_NAMES = [
  'background', 'aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car', 'cat', 'chair', 'cow',
  'diningtable', 'dog', 'horse', 'motorbike', 'person', 'pottedplant', 'sheep', 'sofa', 'train', 'tvmonitor'
]

/**
 * The PASCAL VOC palette (VOCdevkit's labelcolormap): the bits of the id spread over the high bits of r, g, b.
 * It is also the palette for class lists given without colours, since it keeps neighbouring ids apart.
 */
export function vocColor(id: number): Rgb {
  let r = 0
  let g = 0
  let b = 0
  let c = id
  for (let j = 0; j < 8; j++) {
    r |= ((c >> 0) & 1) << (7 - j)
    g |= ((c >> 1) & 1) << (7 - j)
    b |= ((c >> 2) & 1) << (7 - j)
    c >>= 3
  }
  return [r, g, b]
}

export interface ClassPreset {
  classes: ClassDef[]
  /** The label id the dataset uses for unlabelled pixels. */
  ignoreId: number | null
}

export const CLASS_PRESETS = {
  cityscapes: { classes: CITYSCAPES.map(([name, color], id) => ({ id, name, color })), ignoreId: 255 },
  voc: { classes: VOC_NAMES.map((name, id) => ({ id, name, color: vocColor(id) })), ignoreId: 255 }
} satisfies Record<string, ClassPreset>
export type ClassPresetName = keyof typeof CLASS_PRESETS
export const CLASS_PRESET_NAMES = Object.keys(CLASS_PRESETS) as ClassPresetName[]

export function isClassPreset(value: string): value is ClassPresetName {
  return Object.prototype.hasOwnProperty.call(CLASS_PRESETS, value)
}

// ---- class lists: JSON and CSV ------------------------------------------------------------------------------

function classesError(source: string, message: string, details?: unknown): AppError {
  return new AppError('INVALID_PARAMETERS', `--classes ${source}: ${message}`, { flag: 'classes', source, ...(details as object) })
}

// Messages say which entry and what is wrong with it, never the value itself: the source may be any file.
function parseColor(value: unknown, source: string, where: string): Rgb {
  if (typeof value === 'string') {
    const m = value.trim().match(/^#?([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i)
    if (!m) throw classesError(source, `${where}: the colour is not #rrggbb or [r, g, b]`)
    return [parseInt(m[1], 16), parseInt(m[2], 16), parseInt(m[3], 16)]
  }
  if (Array.isArray(value) && value.length === 3 && value.every((v) => Number.isInteger(v) && v >= 0 && v <= 255)) return value as Rgb
  throw classesError(source, `${where}: the colour is not #rrggbb or [r, g, b] with values 0..255`)
}

/** What a JSON value is, for saying what an entry should have been instead. */
function jsonKind(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'an array'
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`
}

/** One entry of a class list: a bare name (its position is its id) or `{id, name, color?}`. */
export const ClassEntrySchema = z.union([
  z.string().min(1),
  z.object({ id: z.number().int().min(0).max(65535), name: z.string().min(1), color: z.union([z.string(), z.array(z.number())]).optional() })
])
export type ClassEntry = z.infer<typeof ClassEntrySchema>

/**
 * Class entries as ClassDefs, in the given order: output channel k is entry k. Names without ids take their
 * position as id; colours left out come from the VOC palette.
 */
export function classesFromEntries(entries: unknown, source: string): ClassDef[] {
  if (!Array.isArray(entries)) throw classesError(source, 'expected an array of class names or of {id, name, color} objects')
  if (entries.length < 2) throw classesError(source, `a segmentation model needs at least 2 classes, the list has ${entries.length}`)
  const out: ClassDef[] = entries.map((e, k) => {
    const where = `entry ${k}`
    if (typeof e === 'string') {
      if (e.trim() === '') throw classesError(source, `${where}: the name is empty`)
      return { id: k, name: e.trim(), color: vocColor(k) }
    }
    if (typeof e !== 'object' || e === null || Array.isArray(e)) throw classesError(source, `${where} is ${jsonKind(e)}, neither a name nor an {id, name, color} object`)
    const o = e as Record<string, unknown>
    if (!Number.isInteger(o.id) || (o.id as number) < 0 || (o.id as number) > 65535) {
      throw classesError(source, `${where}: the id is ${o.id === undefined ? 'missing' : 'not an integer from 0 to 65535'}`)
    }
    if (typeof o.name !== 'string' || o.name.trim() === '') throw classesError(source, `${where}: the name is ${o.name === undefined ? 'missing' : 'not a non-empty string'}`)
    const id = o.id as number
    return { id, name: o.name.trim(), color: o.color === undefined ? vocColor(id) : parseColor(o.color, source, where) }
  })
  const seen = new Map<number, number>()
  out.forEach((c, k) => {
    const before = seen.get(c.id)
    if (before !== undefined) throw classesError(source, `entries ${before} and ${k} both have id ${c.id}`)
    seen.set(c.id, k)
  })
  return out.map((c) => ClassDefSchema.parse(c))
}

export function parseClassesJson(text: string, source: string): ClassDef[] {
  const raw = parseJsonText(text)
  if (!raw.ok) throw classesError(source, `the file ${raw.problem}`)
  return classesFromEntries(raw.value, source)
}

/**
 * A CSV class list, one class a line: `name`, `id,name`, `id,name,#rrggbb` or `id,name,r,g,b`. A first line
 * whose id column is not a number is a header; blank lines and lines starting with # are skipped.
 */
export function parseClassesCsv(text: string, source: string): ClassDef[] {
  const rows = text
    .split(/\r?\n/)
    .map((line, i) => ({ line: i + 1, cells: line.split(',').map((c) => c.trim().replace(/^"(.*)"$/, '$1')) }))
    .filter((r) => r.cells.some((c) => c !== '') && !r.cells[0].startsWith('#'))
  if (rows.length > 0 && rows[0].cells.length > 1 && !/^\d+$/.test(rows[0].cells[0])) rows.shift()
  if (rows.length > 0 && rows[0].cells.length === 1 && /^name$/i.test(rows[0].cells[0])) rows.shift()
  const entries = rows.map(({ line, cells }) => {
    if (cells.length === 1) return cells[0]
    if (!/^\d+$/.test(cells[0])) throw classesError(source, `line ${line}: the id (first column) is not a non-negative integer`)
    const id = Number(cells[0])
    const name = cells[1]
    if (cells.length === 2) return { id, name }
    if (cells.length === 3) return { id, name, color: cells[2] }
    if (cells.length === 5) {
      const rgb = cells.slice(2).map((v) => (/^\d+$/.test(v) ? Number(v) : NaN))
      return { id, name, color: rgb }
    }
    throw classesError(source, `line ${line}: expected name, id,name, id,name,#rrggbb or id,name,r,g,b (${cells.length} columns)`)
  })
  return classesFromEntries(entries, source)
}

// ---- input size, normalisation ------------------------------------------------------------------------------

/** `64x64x1`: height × width × channels. */
export function parseInputSize(value: string): InputSize {
  const m = value.trim().match(/^(\d+)\s*[x×]\s*(\d+)\s*[x×]\s*(\d+)$/i)
  if (!m) throw new AppError('INVALID_PARAMETERS', `--input "${value}" is not HxWxC, e.g. 512x1024x3 or 64x64x1`, { flag: 'input', value })
  const [height, width, channels] = [Number(m[1]), Number(m[2]), Number(m[3])]
  if (height < 1 || width < 1 || channels < 1) throw new AppError('INVALID_PARAMETERS', `--input "${value}": every size must be at least 1`, { flag: 'input', value })
  if (channels > 4) throw new AppError('INVALID_PARAMETERS', `--input "${value}": ${channels} channels; images have 1 to 4`, { flag: 'input', value })
  return { height, width, channels }
}

/** torchvision's ImageNet statistics, on the 0..1 scale. */
export const IMAGENET_NORMALISATION: Normalisation = { kind: 'meanStd', scale: 1 / 255, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] }

function numbers(list: string, flagValue: string, what: string): number[] {
  const values = list.split(',').map((s) => (s.trim() === '' ? NaN : Number(s)))
  if (values.length === 0 || values.some((v) => !Number.isFinite(v))) {
    throw new AppError('INVALID_PARAMETERS', `--normalise "${flagValue}": ${what} "${list}" is not a comma-separated list of numbers`, { flag: 'normalise', value: flagValue })
  }
  return values
}

/**
 * `range:MIN,MAX` (pixels 0..255 mapped linearly onto [MIN, MAX]), `imagenet`, or `mean:R,G,B,std:R,G,B` as
 * torchvision's Normalize takes them, on the 0..1 scale; a mean above 1 means the statistics are on the 0..255
 * scale (Caffe style), since a 0..1 image cannot have such a mean.
 */
export function parseNormalisation(value: string): Normalisation {
  const v = value.trim()
  const fail = (why: string): AppError =>
    new AppError('INVALID_PARAMETERS', `--normalise "${value}": ${why}; use range:0,1, range:-1,1, imagenet or mean:R,G,B,std:R,G,B`, { flag: 'normalise', value })
  if (v.toLowerCase() === 'imagenet') return IMAGENET_NORMALISATION
  const range = v.match(/^range:(.*)$/i)
  if (range) {
    const r = numbers(range[1], value, 'range')
    if (r.length !== 2) throw fail(`range needs two numbers, got ${r.length}`)
    if (!(r[1] > r[0])) throw fail('the range maximum must be greater than its minimum')
    return { kind: 'range', min: r[0], max: r[1] }
  }
  const ms = v.match(/^mean:(.*),\s*std:(.*)$/i)
  if (ms) {
    const mean = numbers(ms[1], value, 'mean')
    const std = numbers(ms[2], value, 'std')
    if (std.some((s) => s <= 0)) throw fail('every std must be positive')
    if (mean.length !== std.length && mean.length !== 1 && std.length !== 1) throw fail(`${mean.length} means but ${std.length} stds`)
    const pixelScale = mean.some((m) => m > 1)
    return NormalisationSchema.parse({ kind: 'meanStd', scale: pixelScale ? 1 : 1 / 255, mean, std })
  }
  throw fail('not a known normalisation')
}

/** The flag form of a normalisation, for listings and for commands a user can copy. */
export function normalisationText(n: Normalisation): string {
  if (n.kind === 'range') return `range:${n.min},${n.max}`
  const same = (a: number[], b: number[]): boolean => a.length === b.length && a.every((x, i) => Math.abs(x - b[i]) < 1e-9)
  const inet = IMAGENET_NORMALISATION as Extract<Normalisation, { kind: 'meanStd' }>
  if (n.scale === inet.scale && same(n.mean, inet.mean) && same(n.std, inet.std)) {
    return 'imagenet'
  }
  return `mean:${n.mean.join(',')},std:${n.std.join(',')}`
}

// ---- the flags, as every command and the dialog take them ------------------------------------------------------

/** --classes names a file rather than a preset when it ends like one. */
const CLASS_LIST_FILE = /\.(json|csv)$/i
export const isClassListFile = (value: string): boolean => CLASS_LIST_FILE.test(value)

/**
 * The description flags as given: classes is a preset name, a JSON/CSV file path (read by the main process), or
 * the entries themselves (the dialog). Everything is optional here: what the model file fixes need not be given.
 */
export const DescriptionFlagsSchema = z
  .object({
    name: z.string().min(1).max(200).optional(),
    classes: z
      .union([
        z.string().min(1).refine((c) => !CLASS_LIST_FILE.test(c) || isAbsolutePath(c), {
          error: (issue) => `a class-list file must be an absolute path, and ${JSON.stringify(issue.input)} is not (${RELATIVE_PATH_HINT})`
        }),
        z.array(ClassEntrySchema)
      ])
      .optional(),
    input: z.string().min(1).optional(),
    normalise: z.string().min(1).optional(),
    output: OutputKindSchema.optional(),
    layout: LayoutSchema.optional(),
    /** Label id for unlabelled pixels in ground truth; a preset brings its own. */
    ignoreId: z.number().int().min(0).max(65535).nullable().optional()
  })
  .strict()
export type DescriptionFlags = z.infer<typeof DescriptionFlagsSchema>

/** True when no description flag was given (so a stored description is used as it is). */
export function noDescriptionFlags(f: DescriptionFlags): boolean {
  return Object.values(f).every((v) => v === undefined)
}

/** Input size and normalisation parsed, classes still unresolved when they name a file. */
export function parseDescriptionFlags(f: DescriptionFlags): {
  input?: InputSize
  normalisation?: Normalisation
  classes?: ClassPreset | { file: string }
} {
  const out: ReturnType<typeof parseDescriptionFlags> = {}
  if (f.input !== undefined) out.input = parseInputSize(f.input)
  if (f.normalise !== undefined) out.normalisation = parseNormalisation(f.normalise)
  if (Array.isArray(f.classes)) out.classes = { classes: classesFromEntries(f.classes, '(list)'), ignoreId: null }
  else if (f.classes !== undefined) {
    const key = f.classes.trim().toLowerCase()
    if (isClassPreset(key)) out.classes = CLASS_PRESETS[key]
    else if (CLASS_LIST_FILE.test(f.classes)) out.classes = { file: f.classes }
    else {
      throw new AppError('INVALID_PARAMETERS', `--classes "${f.classes}" is neither a preset (${CLASS_PRESET_NAMES.join(', ')}) nor a .json or .csv file`, {
        flag: 'classes',
        value: f.classes
      })
    }
  }
  return out
}

// ---- what inspecting a model file finds, and what the checks say -------------------------------------------------

export const MODEL_RUNTIMES = ['onnx', 'tfjs'] as const
export type ModelRuntime = (typeof MODEL_RUNTIMES)[number]

const Dim = z.union([z.number().int(), z.string(), z.null()])

export const ModelInspectionSchema = z.object({
  path: z.string(),
  runtime: z.enum(MODEL_RUNTIMES),
  /** onnx, layers-model or graph-model. */
  modelFormat: z.string(),
  fileBytes: z.number().int(),
  contentHash: z.string(),
  inputName: z.string().nullable(),
  /** As the file declares it: a number, a symbolic name, or null when unknown. */
  inputShape: z.array(Dim).nullable(),
  outputName: z.string().nullable(),
  outputShape: z.array(Dim).nullable(),
  layout: LayoutSchema.nullable(),
  /** How the layout was decided: read from the input shape, given by the user, or assumed. */
  layoutSource: z.enum(['graph', 'flag', 'assumed']).nullable(),
  /** Input size fixed by the file, when it is. */
  fixedInput: InputSizeSchema.nullable(),
  opset: z.number().int().nullable(),
  producer: z.string().nullable(),
  ops: z.array(z.object({ opType: z.string(), count: z.number().int() })),
  /** The description already stored beside the file, if any and if it still matches the file. */
  described: z.boolean()
})
export type ModelInspection = z.infer<typeof ModelInspectionSchema>

export const CHECK_IDS = ['input-size', 'unsupported-op', 'output-channels', 'output-resolution', 'probe-finite', 'output-kind', 'gradient-path'] as const
export const ModelCheckSchema = z.object({
  id: z.enum(CHECK_IDS),
  status: z.enum(['ok', 'warning', 'error']),
  message: z.string(),
  /** The error code a failing check raises when the model is added. */
  code: z.string().optional(),
  node: z.string().optional()
})
export type ModelCheck = z.infer<typeof ModelCheckSchema>
