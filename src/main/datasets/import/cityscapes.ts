import { basename, join } from 'node:path'
import { CITYSCAPES_CLASSES, IGNORE_LABEL, type ImportIssue } from '@common/datasets'
import { isDir, listDir, rel, undecodableIssues } from './fsutil'
import type { Candidate, ScanResult } from './types'

const IMAGE_SUFFIX = '_leftImg8bit.png'
const LABEL_SUFFIX = '_gtFine_labelIds.png'
const INSTANCE_SUFFIX = '_gtFine_instanceIds.png'

export async function looksLikeCityscapes(root: string): Promise<boolean> {
  return (await isDir(join(root, 'leftImg8bit'))) && (await isDir(join(root, 'gtFine')))
}

/**
 * leftImg8bit/<split>/<city>/<name>_leftImg8bit.png with gtFine/<split>/<city>/<name>_gtFine_labelIds.png and,
 * where present, <name>_gtFine_instanceIds.png. Label ids are mapped to the 19 train ids when read.
 */
export async function scanCityscapes(root: string, splits?: string[]): Promise<ScanResult> {
  const candidates: Candidate[] = []
  const issues: ImportIssue[] = []
  const wanted = (s: string): boolean => !splits || splits.includes(s)
  const isImage = (f: string): boolean => f.endsWith(IMAGE_SUFFIX)
  const isLabel = (f: string): boolean => f.endsWith(LABEL_SUFFIX)
  const imageSplitListing = await listDir(join(root, 'leftImg8bit'))
  const labelSplitListing = await listDir(join(root, 'gtFine'))
  // A split folder whose name cannot be read can only matter when every split was asked for.
  if (!splits) {
    issues.push(
      ...undecodableIssues('leftImg8bit', imageSplitListing.undecodable, isImage, true),
      ...undecodableIssues('gtFine', labelSplitListing.undecodable, isLabel, true)
    )
  }
  const imageSplits = imageSplitListing.dirs.filter(wanted)
  const labelSplits = labelSplitListing.dirs.filter(wanted)
  for (const split of [...new Set([...imageSplits, ...labelSplits])].sort()) {
    const imageCities = await listDir(join(root, 'leftImg8bit', split))
    const labelCities = await listDir(join(root, 'gtFine', split))
    issues.push(
      ...undecodableIssues(rel('leftImg8bit', split), imageCities.undecodable, isImage, true),
      ...undecodableIssues(rel('gtFine', split), labelCities.undecodable, isLabel, true)
    )
    const cities = new Set([...imageCities.dirs, ...labelCities.dirs])
    for (const city of [...cities].sort()) {
      const imageListing = await listDir(join(root, 'leftImg8bit', split, city))
      const labelListing = await listDir(join(root, 'gtFine', split, city))
      issues.push(
        ...undecodableIssues(rel('leftImg8bit', split, city), imageListing.undecodable, isImage),
        ...undecodableIssues(rel('gtFine', split, city), labelListing.undecodable, isLabel)
      )
      const images = imageListing.files.filter(isImage)
      const gtFiles = new Set(labelListing.files)
      const names = new Set<string>()
      for (const file of images) {
        const name = file.slice(0, -IMAGE_SUFFIX.length)
        names.add(name)
        const image = rel('leftImg8bit', split, city, file)
        const labelFile = name + LABEL_SUFFIX
        if (!gtFiles.has(labelFile)) {
          issues.push({ kind: 'LABEL_MISSING', file: image, message: `no ${rel('gtFine', split, city, labelFile)} for this image`, imported: false })
          continue
        }
        const instanceFile = name + INSTANCE_SUFFIX
        candidates.push({
          split,
          image,
          label: rel('gtFine', split, city, labelFile),
          instance: gtFiles.has(instanceFile) ? rel('gtFine', split, city, instanceFile) : null,
          meta: { city, name }
        })
      }
      for (const file of gtFiles) {
        if (!isLabel(file) || names.has(file.slice(0, -LABEL_SUFFIX.length))) continue
        issues.push({
          kind: 'IMAGE_MISSING',
          file: rel('gtFine', split, city, file),
          message: `label without its image ${rel('leftImg8bit', split, city, file.slice(0, -LABEL_SUFFIX.length) + IMAGE_SUFFIX)}`,
          imported: false
        })
      }
    }
  }
  return {
    format: 'cityscapes',
    root,
    classSet: { name: 'Cityscapes (19 train ids)', classes: CITYSCAPES_CLASSES, ignoreIds: [IGNORE_LABEL] },
    labelEncoding: 'cityscapes-labelIds',
    instanceEncoding: 'cityscapes',
    candidates,
    issues,
    warnings: [],
    defaultName: basename(root) || 'cityscapes'
  }
}
