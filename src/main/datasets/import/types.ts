import type { ClassDef } from '@common/types'
import type { ImportIssue } from '@common/datasets'

/**
 * How raw label values become train ids. 'cityscapes-labelIds': the official labelId→trainId table;
 * 'ids': the value is the class id, and the class set's ignore ids become IGNORE_LABEL.
 */
export type LabelEncoding = 'cityscapes-labelIds' | 'ids'

/**
 * How an instance map names instances. 'cityscapes': ids ≥ 1000 are instances of label id (id / 1000), smaller
 * ids are regions without instances; 'voc': 1–254 are instances (0 background, 255 void), the class comes from
 * the class label map.
 */
export type InstanceEncoding = 'cityscapes' | 'voc'

/** One image a reader found, with its label (and instance map) if it has one; paths relative to the root. */
export interface Candidate {
  split: string
  image: string
  label: string | null
  instance?: string | null
  meta?: Record<string, unknown>
}

export interface ScanResult {
  /** Stored as the dataset's format. */
  format: string
  root: string
  classSet: { name: string; classes: ClassDef[]; ignoreIds: number[] }
  labelEncoding: LabelEncoding
  instanceEncoding: InstanceEncoding | null
  candidates: Candidate[]
  /** Problems visible from file names alone (an image without label, a label without image). */
  issues: ImportIssue[]
  warnings: string[]
  /** Suggested dataset name when the caller gives none. */
  defaultName: string
}

/** Options stored with the dataset: what loadLabelMap / loadInstanceMap need to read its files later. */
export interface StoredDatasetOptions {
  labelEncoding: LabelEncoding
  instanceEncoding: InstanceEncoding | null
  ignoreIds: number[]
  thumbnailDir: string | null
  thumbnailSize: number
  reader: string
}
