import { readFile } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { FolderClassesFileSchema, IGNORE_LABEL, type ImportIssue } from '@common/datasets'
import { AppError } from '@common/errors'
import { parseJsonText } from '@common/jsonText'
import type { ClassDef } from '@common/types'
import { IMAGE_EXTENSIONS, isDir, isFile, listDir, rawPath, rel, splitExt, undecodableIssues, type UndecodableName } from './fsutil'
import type { Candidate, ScanResult } from './types'

interface SplitDirs {
  split: string
  images: string
  labels: string
  meta: string
}

export async function looksLikeFolder(root: string): Promise<boolean> {
  if (!(await isFile(join(root, 'classes.json')))) return false
  if (await isDir(join(root, 'images'))) return true
  for (const d of (await listDir(root)).dirs) if (await isDir(join(root, d, 'images'))) return true
  return false
}

async function readClasses(path: string): Promise<{ classes: ClassDef[]; ignoreIds: number[]; name?: string }> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    throw new AppError('DATASET_INVALID', `cannot read ${path}: ${(err as Error).message}`, { file: path })
  }
  const json = parseJsonText(text)
  if (!json.ok) throw new AppError('DATASET_INVALID', `${path} ${json.problem}`, { file: path })
  const parsed = FolderClassesFileSchema.safeParse(json.value)
  if (!parsed.success) {
    throw new AppError('DATASET_INVALID', `${path} is not a class list ({ classes: [{ id, name, color }], ignoreIds })`, {
      file: path,
      issues: parsed.error.issues
    })
  }
  const { classes, ignoreIds, name } = parsed.data
  const ids = classes.map((c) => c.id)
  if (new Set(ids).size !== ids.length) throw new AppError('DATASET_INVALID', `${path} lists a class id twice`, { file: path })
  // 255 marks ignored pixels everywhere downstream (segments, metrics), so it cannot also be a class.
  if (ids.includes(IGNORE_LABEL)) throw new AppError('DATASET_INVALID', `${path}: class id ${IGNORE_LABEL} is reserved for ignored pixels`, { file: path })
  if (ignoreIds.some((id) => ids.includes(id))) throw new AppError('DATASET_INVALID', `${path}: an ignore id is also a class id`, { file: path })
  return { classes, ignoreIds, name }
}

/**
 * Which of the three layouts the folder uses, as (split, images dir, labels dir, meta dir) relative to the root,
 * and the split folders whose names cannot be read.
 */
async function splitDirs(root: string): Promise<{ layout: SplitDirs[]; issues: ImportIssue[] }> {
  if (await isDir(join(root, 'images'))) {
    const top = await listDir(join(root, 'images'))
    const layout: SplitDirs[] = []
    // Undecodable image names count too: they are then reported by name instead of "no images found".
    if (top.files.some(isImageFile) || top.undecodable.some((u) => !u.isDir && isImageFile(u.shown))) layout.push({ split: 'all', images: 'images', labels: 'labels', meta: 'meta' })
    for (const d of top.dirs) layout.push({ split: d, images: rel('images', d), labels: rel('labels', d), meta: rel('meta', d) })
    return { layout, issues: undecodableIssues('images', top.undecodable, () => false, true) }
  }
  // <split>/images, <split>/labels, <split>/meta: what the texture-MNIST generator writes.
  const layout: SplitDirs[] = []
  const top = await listDir(root)
  for (const d of top.dirs) {
    if (await isDir(join(root, d, 'images'))) layout.push({ split: d, images: rel(d, 'images'), labels: rel(d, 'labels'), meta: rel(d, 'meta') })
  }
  // Other folders may sit beside the splits: an unreadable name is reported only if it holds images/.
  const unreadableSplits: UndecodableName[] = []
  for (const u of top.undecodable) if (u.isDir && (await isDir(rawPath(root, u.raw, 'images')))) unreadableSplits.push(u)
  return { layout, issues: undecodableIssues('', unreadableSplits, () => false, true) }
}

const isImageFile = (f: string): boolean => IMAGE_EXTENSIONS.includes(splitExt(f).ext)

async function textureMnistMarker(root: string): Promise<boolean> {
  try {
    const json = JSON.parse(await readFile(join(root, 'dataset.json'), 'utf8')) as { format?: unknown }
    return json.format === 'texture-mnist'
  } catch {
    return false
  }
}

/**
 * The generic folder: images/ and labels/ with the same base names (labels hold class ids, one channel), a
 * classes.json with ids, names, colours and ignore ids, optional meta/<name>.json per image, and optional split
 * subfolders, either images/<split>/ (labels/<split>/, meta/<split>/) or <split>/images/ as texture-MNIST writes.
 */
export async function scanFolder(root: string, splits?: string[]): Promise<ScanResult> {
  const found = await splitDirs(root)
  const layout = found.layout.filter((s) => !splits || splits.includes(s.split))
  let classesPath = join(root, 'classes.json')
  if (!(await isFile(classesPath))) {
    const inSplit = layout.find((s) => s.split !== 'all')
    const candidate = inSplit ? join(root, inSplit.images, '..', 'classes.json') : null
    if (!candidate || !(await isFile(candidate))) {
      throw new AppError('DATASET_INVALID', `no classes.json in ${root}: the folder format needs one ({ classes: [{ id, name, color }], ignoreIds })`, {
        root
      })
    }
    classesPath = candidate
  }
  const classSet = await readClasses(classesPath)
  const candidates: Candidate[] = []
  // Unreadable split folders matter only when every split was asked for: a named selection could not mean them.
  const issues: ImportIssue[] = splits ? [] : [...found.issues]
  const warnings: string[] = []
  for (const dirs of layout) {
    const imageListing = await listDir(join(root, dirs.images))
    const labelListing = await listDir(join(root, dirs.labels))
    issues.push(
      ...undecodableIssues(dirs.images, imageListing.undecodable, isImageFile),
      ...undecodableIssues(dirs.labels, labelListing.undecodable, isImageFile)
    )
    const images = imageListing.files.filter(isImageFile)
    const labelFiles = labelListing.files.filter(isImageFile)
    const labelsByBase = new Map<string, string>()
    for (const f of labelFiles) {
      const { base, ext } = splitExt(f)
      // Prefer the lossless PNG when a label exists in several formats.
      if (!labelsByBase.has(base) || ext === '.png') labelsByBase.set(base, f)
    }
    const metaFiles = new Set((await listDir(join(root, dirs.meta))).files)
    const imageBases = new Set<string>()
    for (const file of images) {
      const { base } = splitExt(file)
      if (imageBases.has(base)) {
        warnings.push(`${rel(dirs.images, file)}: another image has the same base name; only the first is imported`)
        continue
      }
      imageBases.add(base)
      const image = rel(dirs.images, file)
      const labelFile = labelsByBase.get(base)
      if (!labelFile) {
        issues.push({ kind: 'LABEL_MISSING', file: image, message: `no label named ${base}.* in ${dirs.labels}/`, imported: false })
        continue
      }
      let meta: Record<string, unknown> = {}
      if (metaFiles.has(`${base}.json`)) {
        const metaPath = rel(dirs.meta, `${base}.json`)
        try {
          const parsed = parseJsonText(await readFile(join(root, metaPath), 'utf8'))
          if (!parsed.ok) warnings.push(`${metaPath} ${parsed.problem}; ignored`)
          else if (parsed.value && typeof parsed.value === 'object' && !Array.isArray(parsed.value)) meta = parsed.value as Record<string, unknown>
          else warnings.push(`${metaPath}: not a JSON object; ignored`)
        } catch (err) {
          warnings.push(`${metaPath}: ${(err as Error).message}; ignored`)
        }
      }
      candidates.push({ split: dirs.split, image, label: rel(dirs.labels, labelFile), instance: null, meta })
    }
    for (const [base, f] of labelsByBase) {
      if (!imageBases.has(base)) issues.push({ kind: 'IMAGE_MISSING', file: rel(dirs.labels, f), message: `label without an image named ${base}.* in ${dirs.images}/`, imported: false })
    }
  }
  const isTextureMnist = await textureMnistMarker(root)
  return {
    format: isTextureMnist ? 'texture-mnist' : 'folder',
    root,
    classSet: { name: classSet.name ?? (isTextureMnist ? 'texture-MNIST (digits + background)' : `${basename(root)} classes`), classes: classSet.classes, ignoreIds: classSet.ignoreIds },
    labelEncoding: 'ids',
    instanceEncoding: null,
    candidates,
    issues,
    warnings,
    defaultName: basename(root) || 'dataset'
  }
}
