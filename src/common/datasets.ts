import { z } from 'zod'
import { ClassDefSchema, DatasetSummarySchema, type ClassDef } from './types'

/**
 * Dataset import (Cityscapes, Pascal VOC, generic folders incl. texture-MNIST) and segment extraction: the
 * options, the import report, and the class tables, shared by the importer (main), the CLI and the UI.
 */

/** Label value that never belongs to a class or a segment, after every format's ids are mapped to train ids. */
export const IGNORE_LABEL = 255

export const IMPORT_FORMATS = ['cityscapes', 'voc', 'folder', 'auto'] as const
export type ImportFormat = (typeof IMPORT_FORMATS)[number]

export const ImportDatasetOptionsSchema = z
  .object({
    format: z.enum(IMPORT_FORMATS).default('auto'),
    /** Folder the dataset lives in; images stay there and are referenced relative to it. */
    root: z.string().min(1, 'a dataset folder is required'),
    name: z.string().min(1).max(200).optional(),
    /** Only these splits (e.g. ['val']); all splits found when omitted. */
    splits: z.array(z.string().min(1)).min(1).optional(),
    /** Where thumbnails are cached, named by content hash; none are made when omitted. */
    thumbnailDir: z.string().min(1).optional(),
    /** Long side of a thumbnail in pixels. */
    thumbnailSize: z.number().int().min(16).max(1024).default(128),
    /**
     * Import a folder (and split selection) the project already holds as a second dataset. Without it such an
     * import is refused with CONFLICT, naming the dataset that has it.
     */
    allowDuplicate: z.boolean().default(false)
  })
  .strict()
export type ImportDatasetOptions = z.infer<typeof ImportDatasetOptionsSchema>
export type ImportDatasetOptionsInput = z.input<typeof ImportDatasetOptionsSchema>

/**
 * What can be wrong with one file. The four error codes of the same name, plus IMAGE_MISSING (a label, or a
 * split list entry, without its image), which is only ever a report entry.
 */
export const IMPORT_ISSUE_KINDS = ['LABEL_MISSING', 'IMAGE_MISSING', 'IMAGE_UNREADABLE', 'LABEL_SIZE_MISMATCH', 'UNKNOWN_CLASS_ID'] as const
export type ImportIssueKind = (typeof IMPORT_ISSUE_KINDS)[number]

export const ImportIssueSchema = z.object({
  kind: z.enum(IMPORT_ISSUE_KINDS),
  /** The broken file, relative to the dataset root. */
  file: z.string(),
  message: z.string(),
  /** True when the image was imported anyway (a broken optional instance map only drops the instance map). */
  imported: z.boolean().default(false),
  details: z.record(z.string(), z.unknown()).optional()
})
export type ImportIssue = z.infer<typeof ImportIssueSchema>

export const ImportReportSchema = z.object({
  dataset: DatasetSummarySchema,
  /** The reader used ('texture-mnist' is the folder reader on a texture-MNIST folder). */
  format: z.string(),
  classSetId: z.number().int(),
  imported: z.number().int(),
  /** Image/label pairs left out because one of their files is broken. */
  skipped: z.number().int(),
  bySplit: z.record(z.string(), z.number().int()),
  /** Per kind: how many files, and which (relative paths). */
  errors: z.record(z.enum(IMPORT_ISSUE_KINDS), z.object({ count: z.number().int(), files: z.array(z.string()) })),
  issues: z.array(ImportIssueSchema),
  /** Non-fatal notes, e.g. an unparseable per-image meta file. */
  warnings: z.array(z.string()),
  durationMs: z.number()
})
export type ImportReport = z.infer<typeof ImportReportSchema>

export interface ImportProgress {
  phase: 'scan' | 'read' | 'store'
  done: number
  total: number
  /** The file just finished, relative to the root. */
  file?: string
}

// Cityscapes: the official labels.py table. Only the 19 evaluated classes get a train id; the rest is ignored.
export const CITYSCAPES_MAX_LABEL_ID = 33
export const CITYSCAPES_LABEL_TO_TRAIN: Readonly<Record<number, number>> = {
  7: 0,
  8: 1,
  11: 2,
  12: 3,
  13: 4,
  17: 5,
  19: 6,
  20: 7,
  21: 8,
  22: 9,
  23: 10,
  24: 11,
  25: 12,
  26: 13,
  27: 14,
  28: 15,
  31: 16,
  32: 17,
  33: 18
}

export const CITYSCAPES_CLASSES: ClassDef[] = [
  { id: 0, name: 'road', color: [128, 64, 128] },
  { id: 1, name: 'sidewalk', color: [244, 35, 232] },
  { id: 2, name: 'building', color: [70, 70, 70] },
  { id: 3, name: 'wall', color: [102, 102, 156] },
  { id: 4, name: 'fence', color: [190, 153, 153] },
  { id: 5, name: 'pole', color: [153, 153, 153] },
  { id: 6, name: 'traffic light', color: [250, 170, 30] },
  { id: 7, name: 'traffic sign', color: [220, 220, 0] },
  { id: 8, name: 'vegetation', color: [107, 142, 35] },
  { id: 9, name: 'terrain', color: [152, 251, 152] },
  { id: 10, name: 'sky', color: [70, 130, 180] },
  { id: 11, name: 'person', color: [220, 20, 60] },
  { id: 12, name: 'rider', color: [255, 0, 0] },
  { id: 13, name: 'car', color: [0, 0, 142] },
  { id: 14, name: 'truck', color: [0, 0, 70] },
  { id: 15, name: 'bus', color: [0, 60, 100] },
  { id: 16, name: 'train', color: [0, 80, 100] },
  { id: 17, name: 'motorcycle', color: [0, 0, 230] },
  { id: 18, name: 'bicycle', color: [119, 11, 32] }
]

/** Train id of a Cityscapes label id (IGNORE_LABEL for the classes that are not evaluated). */
export function cityscapesTrainId(labelId: number): number {
  return CITYSCAPES_LABEL_TO_TRAIN[labelId] ?? IGNORE_LABEL
}

/** Pascal VOC 2012: palette index = class id, index 255 marks void (object boundaries and difficult regions). */
export const VOC_CLASSES: ClassDef[] = [
  { id: 0, name: 'background', color: [0, 0, 0] },
  { id: 1, name: 'aeroplane', color: [128, 0, 0] },
  { id: 2, name: 'bicycle', color: [0, 128, 0] },
  { id: 3, name: 'bird', color: [128, 128, 0] },
  { id: 4, name: 'boat', color: [0, 0, 128] },
  { id: 5, name: 'bottle', color: [128, 0, 128] },
  { id: 6, name: 'bus', color: [0, 128, 128] },
  { id: 7, name: 'car', color: [128, 128, 128] },
  { id: 8, name: 'cat', color: [64, 0, 0] },
  { id: 9, name: 'chair', color: [192, 0, 0] },
  { id: 10, name: 'cow', color: [64, 128, 0] },
  { id: 11, name: 'diningtable', color: [192, 128, 0] },
  { id: 12, name: 'dog', color: [64, 0, 128] },
  { id: 13, name: 'horse', color: [192, 0, 128] },
  { id: 14, name: 'motorbike', color: [64, 128, 128] },
  { id: 15, name: 'person', color: [192, 128, 128] },
  { id: 16, name: 'pottedplant', color: [0, 64, 0] },
  { id: 17, name: 'sheep', color: [128, 64, 0] },
  { id: 18, name: 'sofa', color: [0, 192, 0] },
  { id: 19, name: 'train', color: [128, 192, 0] },
  { id: 20, name: 'tvmonitor', color: [0, 64, 128] }
]

/** The generic folder's classes.json (also written by the texture-MNIST generator). A bare array is accepted too. */
export const FolderClassesFileSchema = z.union([
  z.object({
    classes: z.array(ClassDefSchema).min(1),
    ignoreIds: z.array(z.number().int().min(0).max(65535)).default([]),
    name: z.string().optional()
  }),
  z
    .array(ClassDefSchema)
    .min(1)
    .transform((classes) => ({ classes, ignoreIds: [] as number[], name: undefined as string | undefined }))
])

// Segments (paper Sec. 5): minimum request areas, given at Cityscapes scale and scaled with the image area.
export const CITYSCAPES_REFERENCE_PIXELS = 1024 * 2048
/** Table 1: correct/misclassified request masks of at least 625 px. */
export const MIN_AREA_TABLE1 = 625
/** Fig. 6: instances of at least 10k px. */
export const MIN_AREA_FIG6 = 10_000

export const CONNECTIVITIES = [4, 8] as const
export type Connectivity = (typeof CONNECTIVITIES)[number]

export const SEGMENT_KINDS_EXTRACTED = ['predicted', 'instance', 'correct', 'misclassified'] as const
export type ExtractedSegmentKind = (typeof SEGMENT_KINDS_EXTRACTED)[number]

const MinAreaSchema = z.union([z.number().int().min(1), z.enum(['table1', 'fig6'])])
export type MinArea = z.infer<typeof MinAreaSchema>

export const SegmentOptionsSchema = z
  .object({
    /** 4: pixels sharing an edge form a segment; 8: pixels touching at a corner too. */
    connectivity: z.union([z.literal(4), z.literal(8)]).default(4),
    /**
     * Minimum areas at Cityscapes scale (1024×2048), scaled with the image area ('table1' = 625, 'fig6' = 10k):
     * one for correct/misclassified regions (Table 1), one for predicted segments and GT instances (Fig. 6).
     */
    minAreaRegions: MinAreaSchema.default('table1'),
    minAreaInstances: MinAreaSchema.default('fig6'),
    /** Take the minimum areas as pixels of this image, unscaled. */
    unscaled: z.boolean().default(false),
    kinds: z.array(z.enum(SEGMENT_KINDS_EXTRACTED)).min(1).default(['predicted', 'instance', 'correct', 'misclassified'])
  })
  .strict()
export type SegmentOptions = z.infer<typeof SegmentOptionsSchema>
export type SegmentOptionsInput = z.input<typeof SegmentOptionsSchema>
