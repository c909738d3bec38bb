import { readFile } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { IGNORE_LABEL, VOC_CLASSES, type ImportIssue } from '@common/datasets'
import { isDir, isFile, listDir, rel, splitExt, undecodableIssues } from './fsutil'
import type { Candidate, ScanResult } from './types'

/** The folder that holds JPEGImages/ and SegmentationClass/: the root itself, or VOC2012 / VOCdevkit/VOC2012 under it. */
export async function findVocRoot(root: string): Promise<string | null> {
  for (const dir of [root, join(root, 'VOC2012'), join(root, 'VOCdevkit', 'VOC2012')]) {
    if ((await isDir(join(dir, 'JPEGImages'))) && (await isDir(join(dir, 'SegmentationClass')))) return dir
  }
  return null
}

async function readSplitList(path: string): Promise<string[] | null> {
  try {
    return (await readFile(path, 'utf8'))
      .split(/\r?\n/)
      .map((l) => l.trim().split(/\s+/)[0])
      .filter((l) => l.length > 0)
  } catch {
    return null
  }
}

/**
 * Pascal VOC: the segmentation subset is what ImageSets/Segmentation/{train,val}.txt lists (most of JPEGImages
 * has no segmentation label and is not an error); without those lists, every SegmentationClass PNG with split
 * 'all'. Labels are palette PNGs whose index is the class id; SegmentationObject is recorded as the instance map.
 */
export async function scanVoc(givenRoot: string, splits?: string[]): Promise<ScanResult> {
  const root = (await findVocRoot(givenRoot)) ?? givenRoot
  const labelListing = await listDir(join(root, 'SegmentationClass'))
  const labelFiles = new Set(labelListing.files.filter((f) => f.endsWith('.png')))
  const objectFiles = new Set((await listDir(join(root, 'SegmentationObject'))).files)
  const lists: { split: string; names: string[] }[] = []
  for (const split of ['train', 'val', 'test']) {
    if (splits && !splits.includes(split)) continue
    const names = await readSplitList(join(root, 'ImageSets', 'Segmentation', `${split}.txt`))
    if (names) lists.push({ split, names })
  }
  const hasLists = (await isDir(join(root, 'ImageSets', 'Segmentation'))) && lists.length > 0
  const candidates: Candidate[] = []
  const issues: ImportIssue[] = []
  if (!hasLists) {
    const names = [...labelFiles].map((f) => splitExt(f).base)
    if (!splits || splits.includes('all')) {
      lists.push({ split: 'all', names })
      // Without split lists every label is an entry; one whose name cannot be read is one that cannot be imported.
      issues.push(...undecodableIssues('SegmentationClass', labelListing.undecodable, (f) => f.endsWith('.png')))
    }
  }
  const seen = new Set<string>()
  for (const { split, names } of lists) {
    for (const name of names) {
      // trainval-style overlaps: an image belongs to one split only.
      if (seen.has(name)) continue
      seen.add(name)
      const image = rel('JPEGImages', `${name}.jpg`)
      const labelFile = `${name}.png`
      const hasLabel = labelFiles.has(labelFile)
      if (!(await isFile(join(root, image)))) {
        issues.push({
          kind: 'IMAGE_MISSING',
          file: hasLabel ? rel('SegmentationClass', labelFile) : image,
          message: `${image} not found${hasLists ? ` (listed in ImageSets/Segmentation/${split}.txt)` : ''}`,
          imported: false
        })
        continue
      }
      if (!hasLabel) {
        issues.push({ kind: 'LABEL_MISSING', file: image, message: `no SegmentationClass/${labelFile} for this image`, imported: false })
        continue
      }
      candidates.push({
        split,
        image,
        label: rel('SegmentationClass', labelFile),
        instance: objectFiles.has(labelFile) ? rel('SegmentationObject', labelFile) : null,
        meta: { name }
      })
    }
  }
  return {
    format: 'voc',
    root,
    classSet: { name: 'Pascal VOC (21 classes)', classes: VOC_CLASSES, ignoreIds: [IGNORE_LABEL] },
    labelEncoding: 'ids',
    instanceEncoding: 'voc',
    candidates,
    issues,
    warnings: [],
    defaultName: basename(root) || 'voc'
  }
}
