import { createHash } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import {
  IMPORT_ISSUE_KINDS,
  ImportDatasetOptionsSchema,
  type ImportDatasetOptions,
  type ImportDatasetOptionsInput,
  type ImportIssue,
  type ImportProgress,
  type ImportReport
} from '@common/datasets'
import { AppError } from '@common/errors'
import type { ClassDef } from '@common/types'
import type { Project } from '@main/store/project'
import type { ImageInput } from '@main/store/repositories/datasets'
import { throwIfAborted } from '../../cancellation'
import { looksLikeCityscapes, scanCityscapes } from './cityscapes'
import { looksLikeFolder, scanFolder } from './folder'
import { isDir, isFile } from './fsutil'
import { readLabelFile, unknownValues, validLabelValues } from './labels'
import { thumbnailPath, thumbnailWebp } from './thumbnails'
import { ImageTooLargeError, sharpWithinLimit } from './pixelLimit'
import { findVocRoot, scanVoc } from './voc'
import type { Candidate, ScanResult, StoredDatasetOptions } from './types'

export interface ImportHooks {
  /** Called after each image; an exception thrown here aborts the import and nothing is stored. */
  onProgress?: (p: ImportProgress) => void
  signal?: AbortSignal
}

/** Images decoded at once: sharp decodes on libuv's pool, labels inflate there too; the machines have 2 cores. */
const IN_FLIGHT = 2

const IMPORT_CANCELLED = 'dataset import cancelled; nothing was stored'

async function detectFormat(root: string): Promise<'cityscapes' | 'voc' | 'folder'> {
  if (await looksLikeCityscapes(root)) return 'cityscapes'
  if (await findVocRoot(root)) return 'voc'
  if (await looksLikeFolder(root)) return 'folder'
  throw new AppError(
    'DATASET_INVALID',
    `cannot tell the dataset format of ${root}: expected leftImg8bit/ + gtFine/ (Cityscapes), JPEGImages/ + SegmentationClass/ (Pascal VOC), or classes.json + images/ + labels/ (folder)`,
    { root }
  )
}

function scan(format: 'cityscapes' | 'voc' | 'folder', root: string, splits?: string[]): Promise<ScanResult> {
  if (format === 'cityscapes') return scanCityscapes(root, splits)
  if (format === 'voc') return scanVoc(root, splits)
  return scanFolder(root, splits)
}

interface Checked {
  input: ImageInput | null
  issues: ImportIssue[]
}

const dims = (w: number, h: number): string => `${w}×${h}`

function unreadable(file: string, what: string, err: unknown, outcome = ''): ImportIssue {
  const issue: ImportIssue = { kind: 'IMAGE_UNREADABLE', file, message: `cannot decode ${what}: ${(err as Error).message}${outcome}`, imported: outcome !== '' }
  if (err instanceof ImageTooLargeError) issue.details = { width: err.width, height: err.height, maxPixels: err.maxPixels }
  return issue
}

/** Read and check one image/label pair; every broken file becomes an issue naming it. */
async function checkCandidate(scanResult: ScanResult, valid: Uint8Array, c: Candidate, options: ImportDatasetOptions): Promise<Checked> {
  const root = scanResult.root
  const issues: ImportIssue[] = []
  let image: { width: number; height: number; hash: string } | null = null
  try {
    const buf = await readFile(join(root, c.image))
    const decodable = await sharpWithinLimit(buf)
    const meta = await decodable.metadata()
    const hash = createHash('sha256').update(buf).digest('hex')
    // The thumbnail pass decodes the whole image, so a truncated or corrupt file fails here, not during an audit.
    const thumb = await thumbnailWebp(decodable, options.thumbnailSize)
    if (options.thumbnailDir) {
      const path = thumbnailPath(options.thumbnailDir, hash)
      if (!(await isFile(path))) await writeFile(path, thumb)
    }
    if (!meta.width || !meta.height) throw new Error('no image size in the header')
    image = { width: meta.width, height: meta.height, hash }
  } catch (err) {
    issues.push(unreadable(c.image, 'image', err))
  }
  let labelOk = false
  if (c.label) {
    try {
      const label = await readLabelFile(join(root, c.label))
      if (image && (label.width !== image.width || label.height !== image.height)) {
        issues.push({
          kind: 'LABEL_SIZE_MISMATCH',
          file: c.label,
          message: `label is ${dims(label.width, label.height)} but its image ${c.image} is ${dims(image.width, image.height)}`,
          imported: false,
          details: { image: c.image, imageSize: [image.width, image.height], labelSize: [label.width, label.height] }
        })
      } else {
        const unknown = unknownValues(label.values, valid)
        if (unknown.pixels > 0) {
          issues.push({
            kind: 'UNKNOWN_CLASS_ID',
            file: c.label,
            message: `${unknown.pixels} pixels carry ids that are neither a class nor ignored: ${unknown.ids.join(', ')}`,
            imported: false,
            details: { ids: unknown.ids, pixels: unknown.pixels }
          })
        } else labelOk = true
      }
    } catch (err) {
      issues.push(unreadable(c.label, 'label', err))
    }
  }
  if (!image || !labelOk) return { input: null, issues }

  let instancePath: string | null = null
  if (c.instance) {
    // The instance map is optional: a broken one is reported, and the image imports without it.
    try {
      const inst = await readLabelFile(join(root, c.instance))
      if (inst.width !== image.width || inst.height !== image.height) {
        issues.push({
          kind: 'LABEL_SIZE_MISMATCH',
          file: c.instance,
          message: `instance map is ${dims(inst.width, inst.height)} but its image is ${dims(image.width, image.height)}; imported without instances`,
          imported: true,
          details: { image: c.image, imageSize: [image.width, image.height], labelSize: [inst.width, inst.height] }
        })
      } else instancePath = c.instance
    } catch (err) {
      issues.push(unreadable(c.instance, 'instance map', err, '; imported without instances'))
    }
  }
  return {
    input: {
      path: c.image,
      labelPath: c.label,
      instancePath,
      width: image.width,
      height: image.height,
      split: c.split,
      contentHash: image.hash,
      meta: c.meta ?? {}
    },
    issues
  }
}

interface ExistingDataset {
  id: number
  name: string
  imageCount: number
  createdAt: string
}

const splitKey = (splits: readonly string[] | null | undefined): string => (splits ? [...new Set(splits)].sort().join('\n') : '*')

/**
 * A dataset of the same folder and split selection, if the project has one: the same files imported twice
 * would double every count downstream without anyone noticing. Another split selection is another dataset.
 */
function findDuplicate(project: Project, root: string, splits: string[] | undefined): ExistingDataset | null {
  const row = project.datasets.withRoot(root).find((r) => splitKey((r.options as { splits?: string[] | null }).splits) === splitKey(splits))
  if (!row) return null
  return { id: row.id, name: row.name, imageCount: project.datasets.imageCount(row.id), createdAt: row.createdAt }
}

function duplicateError(root: string, splits: string[] | undefined, existing: ExistingDataset): AppError {
  const selection = splits ? ` (splits ${splits.join(', ')})` : ''
  return new AppError(
    'CONFLICT',
    `${root}${selection} is already in this project as dataset "${existing.name}" (${existing.imageCount} images, imported ${existing.createdAt}); ` +
      'importing it again would make a second copy. Use that dataset, or import anyway with allowDuplicate (ctxlens import --allow-duplicate) ' +
      'and a name that tells the two apart (--name)',
    { root, splits: splits ?? null, existing: { id: existing.id, name: existing.name } }
  )
}

/** The folder's name, or "name (2)", "name (3)"… when a dataset is already called that: names are how people pick. */
function freeName(project: Project, wanted: string): string {
  const taken = new Set(project.datasets.names())
  if (!taken.has(wanted)) return wanted
  let n = 2
  while (taken.has(`${wanted} (${n})`)) n++
  return `${wanted} (${n})`
}

/** An identical class set (same name, classes and ignore ids) is reused, so datasets and models share it. */
function findOrCreateClassSet(project: Project, set: { name: string; classes: ClassDef[]; ignoreIds: number[] }): number {
  return project.classSets.findIdentical(set) ?? project.classSets.create(set).id
}

function summarizeIssues(issues: ImportIssue[]): ImportReport['errors'] {
  const errors = Object.fromEntries(IMPORT_ISSUE_KINDS.map((k) => [k, { count: 0, files: [] as string[] }])) as ImportReport['errors']
  for (const i of issues) {
    errors[i.kind].count++
    errors[i.kind].files.push(i.file)
  }
  return errors
}

/**
 * Import a dataset: find its image/label pairs, decode and check every file, then store the dataset and all
 * good images in one transaction. Broken files are reported by name and left out; when nothing is good, or the
 * import is cancelled or fails, nothing is stored.
 */
export async function importDataset(project: Project, input: ImportDatasetOptionsInput, hooks: ImportHooks = {}): Promise<ImportReport> {
  const started = performance.now()
  const parsed = ImportDatasetOptionsSchema.safeParse(input)
  if (!parsed.success) throw new AppError('INVALID_PARAMETERS', 'invalid dataset import options', parsed.error.issues)
  const options = parsed.data
  const root = resolve(options.root)
  if (!(await isDir(root))) throw new AppError('DATASET_INVALID', `no folder at ${root}`, { root })
  throwIfAborted(hooks.signal, IMPORT_CANCELLED)

  const format = options.format === 'auto' ? await detectFormat(root) : options.format
  const scanned = await scan(format, root, options.splits)
  // Before any file is read: a refused duplicate should cost nothing.
  const duplicate = findDuplicate(project, scanned.root, options.splits)
  if (duplicate && !options.allowDuplicate) throw duplicateError(scanned.root, options.splits, duplicate)
  if (scanned.candidates.length === 0 && scanned.issues.length === 0) {
    throw new AppError('DATASET_INVALID', `no images found in ${root} for the ${format} layout${options.splits ? ` (splits: ${options.splits.join(', ')})` : ''}`, {
      root,
      format
    })
  }
  throwIfAborted(hooks.signal, IMPORT_CANCELLED)
  if (options.thumbnailDir) await mkdir(options.thumbnailDir, { recursive: true })

  const valid = validLabelValues(scanned.labelEncoding, scanned.classSet.classes, scanned.classSet.ignoreIds)
  const total = scanned.candidates.length
  hooks.onProgress?.({ phase: 'scan', done: 0, total })
  const results: Checked[] = new Array(total)
  let next = 0
  let done = 0
  let failed = false
  const worker = async (): Promise<void> => {
    while (!failed && next < total) {
      const i = next++
      throwIfAborted(hooks.signal, IMPORT_CANCELLED)
      results[i] = await checkCandidate(scanned, valid, scanned.candidates[i], options)
      if (failed) return
      done++
      hooks.onProgress?.({ phase: 'read', done, total, file: scanned.candidates[i].image })
    }
  }
  try {
    await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, total) }, worker))
  } catch (err) {
    failed = true
    throw err
  }
  throwIfAborted(hooks.signal, IMPORT_CANCELLED)

  const images = results.flatMap((r) => (r.input ? [r.input] : []))
  const issues = [...scanned.issues, ...results.flatMap((r) => r.issues)]
  const errors = summarizeIssues(issues)
  if (images.length === 0) {
    // The first file of each kind is named: a user running the CLI without --json sees only this message.
    const counts = IMPORT_ISSUE_KINDS.filter((k) => errors[k].count > 0).map((k) => {
      const [first] = errors[k].files
      return `${errors[k].count} ${k}${first ? ` (${first}${errors[k].count > 1 ? ', …' : ''})` : ''}`
    })
    throw new AppError('DATASET_INVALID', `no image in ${root} has a readable, matching label (${counts.join(', ')}); nothing was imported`, {
      root,
      format: scanned.format,
      errors,
      issues: issues.slice(0, 100)
    })
  }

  const stored: StoredDatasetOptions = {
    labelEncoding: scanned.labelEncoding,
    instanceEncoding: scanned.instanceEncoding,
    ignoreIds: scanned.classSet.ignoreIds,
    thumbnailDir: options.thumbnailDir ? resolve(options.thumbnailDir) : null,
    thumbnailSize: options.thumbnailSize,
    reader: format
  }
  // Announced before the write: a throwing listener still aborts with nothing stored.
  hooks.onProgress?.({ phase: 'store', done: total, total })
  const { dataset, classSetId, copyOf } = project.transaction(() => {
    // Again inside the write: another import of the same folder may have finished while this one read files.
    const copyOf = findDuplicate(project, scanned.root, options.splits)
    if (copyOf && !options.allowDuplicate) throw duplicateError(scanned.root, options.splits, copyOf)
    const classSetId = findOrCreateClassSet(project, scanned.classSet)
    const dataset = project.datasets.createWithImages(
      {
        name: options.name ?? freeName(project, scanned.defaultName),
        format: scanned.format,
        root: scanned.root,
        classSetId,
        options: { ...stored, splits: options.splits ?? null }
      },
      images
    )
    return { dataset, classSetId, copyOf }
  })
  const warnings = copyOf
    ? [`${scanned.root} was already imported as dataset "${copyOf.name}"; this is a second copy of it, named "${dataset.name}"`, ...scanned.warnings]
    : scanned.warnings

  const bySplit: Record<string, number> = {}
  for (const im of images) bySplit[im.split ?? 'all'] = (bySplit[im.split ?? 'all'] ?? 0) + 1
  return {
    dataset,
    format: scanned.format,
    classSetId,
    imported: images.length,
    skipped: total - images.length + scanned.issues.length,
    bySplit,
    errors,
    issues,
    warnings,
    durationMs: performance.now() - started
  }
}
