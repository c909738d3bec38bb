import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import sharp, { type OutputInfo } from 'sharp'
import { AppError } from '@common/errors'
import type { Project } from '@main/store/project'
import type { ImageRecord } from '@main/store/repositories/datasets'
import { thumbnailPath } from './thumbnails'
import { normalizeInstances, readLabelFile, toTrainIds, type InstanceMap } from './labels'
import { sharpWithinLimit } from './pixelLimit'
import type { StoredDatasetOptions } from './types'

export interface DatasetSource {
  id: number
  format: string
  root: string
  classSetId: number
  options: StoredDatasetOptions
}

/** The dataset row with its stored options, defaults filled in where its importer recorded none. */
export function datasetSource(project: Project, datasetId: number): DatasetSource {
  const row = project.datasets.record(datasetId)
  if (!row) throw new AppError('NOT_FOUND', `no dataset with id ${datasetId}`, { datasetId })
  const stored = row.options as Partial<StoredDatasetOptions>
  return {
    id: row.id,
    format: row.format,
    root: row.root,
    classSetId: row.classSetId,
    options: {
      // Datasets created by other paths (e.g. the demo) carry no options: their labels hold class ids.
      labelEncoding: stored.labelEncoding ?? 'ids',
      instanceEncoding: stored.instanceEncoding ?? null,
      ignoreIds: stored.ignoreIds ?? [],
      thumbnailDir: stored.thumbnailDir ?? null,
      thumbnailSize: stored.thumbnailSize ?? 128,
      reader: stored.reader ?? row.format
    }
  }
}

function imageRecord(project: Project, imageId: number): { image: ImageRecord; source: DatasetSource } {
  const image = project.datasets.image(imageId)
  if (!image) throw new AppError('NOT_FOUND', `no image with id ${imageId}`, { imageId })
  return { image, source: datasetSource(project, image.datasetId) }
}

export interface LoadedImage {
  imageId: number
  width: number
  height: number
  /** RGB, row-major, 3 bytes per pixel (grey images are replicated, alpha dropped). */
  data: Uint8Array
}

export interface LoadedLabelMap {
  imageId: number
  width: number
  height: number
  /** Train id per pixel, row-major; IGNORE_LABEL (255) where ignored. */
  data: Uint16Array
}

async function readOrFail(path: string, imageId: number, what: string): Promise<Buffer> {
  try {
    return await readFile(path)
  } catch (err) {
    throw new AppError('IMAGE_UNREADABLE', `cannot read the ${what} of image ${imageId} at ${path}: ${(err as Error).message}`, { imageId, path })
  }
}

export async function loadImage(project: Project, imageId: number): Promise<LoadedImage> {
  const { image, source } = imageRecord(project, imageId)
  const path = join(source.root, image.path)
  const buf = await readOrFail(path, imageId, 'image')
  let decoded: { data: Buffer; info: OutputInfo }
  try {
    decoded = await (await sharpWithinLimit(buf)).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true })
  } catch (err) {
    throw new AppError('IMAGE_UNREADABLE', `cannot decode ${path}: ${(err as Error).message}`, { imageId, path })
  }
  const { data, info } = decoded
  if (info.width !== image.width || info.height !== image.height) {
    throw new AppError('IMAGE_UNREADABLE', `${path} is now ${info.width}×${info.height}, imported as ${image.width}×${image.height}; re-import the dataset`, {
      imageId,
      path
    })
  }
  const n = info.width * info.height
  const rgb = new Uint8Array(n * 3)
  if (info.channels === 3) rgb.set(data)
  else {
    // Defensive: should libvips keep one band, replicate it rather than misread the buffer.
    for (let i = 0; i < n; i++) rgb.fill(data[i * info.channels], i * 3, i * 3 + 3)
  }
  return { imageId, width: info.width, height: info.height, data: rgb }
}

export interface DisplayImage {
  /** An encoded image a browser shows pixel for pixel as loadImage decodes it. */
  bytes: Buffer
  mime: 'image/png' | 'image/jpeg' | 'image/webp'
  /** True when `bytes` is the dataset's own file, sent as it is. */
  original: boolean
}

const BROWSER_FORMATS = { png: 'image/png', jpeg: 'image/jpeg', webp: 'image/webp' } as const

/**
 * The image for the image view. A 2048×1024 PNG costs 200–450 ms to encode again from its pixels, so a file the
 * browser decodes to exactly loadImage's pixels is sent as it is: 8-bit RGB without alpha, no EXIF rotation (the
 * browser would apply it, loadImage does not) and no ICC profile (the browser would colour-manage it). Any other
 * file (16-bit, grey, alpha, CMYK, TIFF…) is decoded the way loadImage does and sent as a fast-compressed PNG.
 */
export async function loadDisplayImage(project: Project, imageId: number): Promise<DisplayImage> {
  const { image, source } = imageRecord(project, imageId)
  const path = join(source.root, image.path)
  const buf = await readOrFail(path, imageId, 'image')
  let meta: Awaited<ReturnType<ReturnType<typeof sharp>['metadata']>>
  try {
    meta = await sharp(buf).metadata()
  } catch (err) {
    throw new AppError('IMAGE_UNREADABLE', `cannot decode ${path}: ${(err as Error).message}`, { imageId, path })
  }
  if (meta.width !== image.width || meta.height !== image.height) {
    throw new AppError('IMAGE_UNREADABLE', `${path} is now ${meta.width}×${meta.height}, imported as ${image.width}×${image.height}; re-import the dataset`, {
      imageId,
      path
    })
  }
  const mime = BROWSER_FORMATS[meta.format as keyof typeof BROWSER_FORMATS]
  const asIs = mime && meta.depth === 'uchar' && meta.channels === 3 && !meta.hasAlpha && meta.space === 'srgb' && (meta.orientation ?? 1) === 1 && !meta.icc
  if (asIs) return { bytes: buf, mime, original: true }
  const rgb = await loadImage(project, imageId)
  const png = await sharp(Buffer.from(rgb.data.buffer, rgb.data.byteOffset, rgb.data.byteLength), { raw: { width: rgb.width, height: rgb.height, channels: 3 } })
    .png({ compressionLevel: 1, adaptiveFiltering: false })
    .toBuffer()
  return { bytes: png, mime: 'image/png', original: false }
}

export async function loadLabelMap(project: Project, imageId: number): Promise<LoadedLabelMap> {
  const { image, source } = imageRecord(project, imageId)
  if (!image.labelPath) throw new AppError('LABEL_MISSING', `image ${imageId} (${image.path}) has no label`, { imageId })
  const path = join(source.root, image.labelPath)
  await readOrFail(path, imageId, 'label')
  let raw
  try {
    raw = await readLabelFile(path)
  } catch (err) {
    throw new AppError('IMAGE_UNREADABLE', `cannot decode label ${path}: ${(err as Error).message}`, { imageId, path })
  }
  if (raw.width !== image.width || raw.height !== image.height) {
    throw new AppError('LABEL_SIZE_MISMATCH', `label ${path} is ${raw.width}×${raw.height}, its image ${image.width}×${image.height}`, { imageId, path })
  }
  return { imageId, width: raw.width, height: raw.height, data: toTrainIds(raw.values, source.options.labelEncoding, source.options.ignoreIds) }
}

/** Ground-truth instances of an image, or null when its dataset has no instance map for it. */
export async function loadInstanceMap(project: Project, imageId: number, labels?: LoadedLabelMap): Promise<InstanceMap | null> {
  const { image, source } = imageRecord(project, imageId)
  if (!image.instancePath || !source.options.instanceEncoding) return null
  const path = join(source.root, image.instancePath)
  const trainLabels = labels ?? (await loadLabelMap(project, imageId))
  await readOrFail(path, imageId, 'instance map')
  let raw
  try {
    raw = await readLabelFile(path)
  } catch (err) {
    throw new AppError('IMAGE_UNREADABLE', `cannot decode instance map ${path}: ${(err as Error).message}`, { imageId, path })
  }
  if (raw.width !== image.width || raw.height !== image.height) {
    throw new AppError('LABEL_SIZE_MISMATCH', `instance map ${path} is ${raw.width}×${raw.height}, its image ${image.width}×${image.height}`, { imageId, path })
  }
  return normalizeInstances(raw, source.options.instanceEncoding, trainLabels.data)
}

/** The cached thumbnail of an image, if the import made one. */
export function thumbnailFor(project: Project, imageId: number): string | null {
  const { image, source } = imageRecord(project, imageId)
  return source.options.thumbnailDir ? thumbnailPath(source.options.thumbnailDir, image.contentHash) : null
}
