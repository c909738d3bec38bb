import { z } from 'zod'
import type { ClassDef } from './types'

/**
 * The demo project's procedural street scenes: Cityscapes-like classes in a perspective street, built so that a
 * small model trained on them makes context mistakes worth explaining. Persons and riders are drawn with the same
 * figure; only the bicycle under a rider tells them apart, and some riders have that bicycle hidden (behind a car,
 * or below the image border) while keeping the rider label. Shared by the generator (main), the CLI and the UI.
 */

export const STREET_CLASS = {
  road: 0,
  sidewalk: 1,
  building: 2,
  vegetation: 3,
  sky: 4,
  car: 5,
  person: 6,
  rider: 7,
  bicycle: 8,
  pole: 9
} as const
export type StreetClassName = keyof typeof STREET_CLASS

/** Cityscapes' own names and palette, so colourised labels read like Cityscapes figures. */
export const STREET_SCENE_CLASSES: ClassDef[] = [
  { id: 0, name: 'road', color: [128, 64, 128] },
  { id: 1, name: 'sidewalk', color: [244, 35, 232] },
  { id: 2, name: 'building', color: [70, 70, 70] },
  { id: 3, name: 'vegetation', color: [107, 142, 35] },
  { id: 4, name: 'sky', color: [70, 130, 180] },
  { id: 5, name: 'car', color: [0, 0, 142] },
  { id: 6, name: 'person', color: [220, 20, 60] },
  { id: 7, name: 'rider', color: [255, 0, 0] },
  { id: 8, name: 'bicycle', color: [119, 11, 32] },
  { id: 9, name: 'pole', color: [153, 153, 153] }
]
export const STREET_SCENE_CLASS_COUNT = STREET_SCENE_CLASSES.length
/** Declared for readers and metrics; the generator labels every pixel, so it never writes it. */
export const STREET_SCENE_IGNORE_ID = 255

export const STREET_SCENE_SPLITS = ['train', 'val', 'test'] as const
export type StreetSceneSplit = (typeof STREET_SCENE_SPLITS)[number]

const uint32 = z.number().int().min(0).max(0xffffffff)
const rate = z.number().min(0).max(1)
const count = z.number().int().min(0).max(1_000_000)

const sceneShape = {
  /** Output size; figures are sized relative to the height, so 128×256 looks like 64×128 with more detail. */
  height: z.number().int().min(32).max(1024).default(64),
  width: z.number().int().min(32).max(2048).default(128),
  /** Mean figures (persons + riders) per image; the count is 1 + a binomial draw, so never 0. */
  figuresPerImage: z.number().min(1).max(8).default(2),
  /** Share of figures that are riders. */
  riderFraction: rate.default(0.5),
  /** Share of riders whose bicycle is hidden (by a car in front, or below the bottom border); still labelled rider. */
  hiddenBicycleRate: rate.default(0.2),
  /**
   * Share of persons shown the way hidden-bicycle riders are (lower body behind a car or below the border), so a
   * truncated figure is ambiguous and the model has to guess from context.
   */
  occludedPersonRate: rate.default(0.25),
  /**
   * Share of persons standing on the road (crossing) instead of the sidewalk. Riders are always on the road, so
   * the lower this is, the more the road alone tells a rider from a person and the less the bicycle has to. Half
   * since issue 16: at 0.3 the demo model's correct riders leaned on the road a third as much as on the bicycle.
   */
  personOnRoadRate: rate.default(0.5),
  /** Of the hidden bicycles (and occluded persons), the share hidden by a car; the rest are cut by the border. */
  carOcclusionShare: rate.default(0.6),
  /** Mean cars per image besides the occluding ones. */
  carsPerImage: z.number().min(0).max(10).default(2.5),
  /** Probability of a parked bicycle without rider on a sidewalk. */
  parkedBicycleRate: rate.default(0.3),
  /** Probability that the road has a marked bike lane along one curb. */
  bikeLaneRate: rate.default(0.4)
}

/** How one scene looks; generateStreetScene takes this. */
export const StreetSceneOptionsSchema = z.object(sceneShape)
export type StreetSceneOptions = z.infer<typeof StreetSceneOptionsSchema>
export type StreetSceneOptionsInput = z.input<typeof StreetSceneOptionsSchema>

const countsShape = z
  .object({ train: count.default(3000), val: count.default(300), test: count.default(300) })
  .default({ train: 3000, val: 300, test: 300 })

/** A whole dataset in memory: scene options plus split sizes and the seed. */
export const StreetScenesSpecSchema = z.object({
  ...sceneShape,
  counts: countsShape,
  /** Image i of a split is drawn from a stream keyed by (seed, split, i), so it can be regenerated alone. */
  seed: uint32.default(0)
})
export type StreetScenesSpec = z.infer<typeof StreetScenesSpecSchema>
export type StreetScenesSpecInput = z.input<typeof StreetScenesSpecSchema>

/** The folder writer's options: the spec plus an output folder that must be missing or empty. */
export const StreetScenesWriteOptionsSchema = StreetScenesSpecSchema.extend({ outDir: z.string().min(1) })
export type StreetScenesWriteOptions = z.infer<typeof StreetScenesWriteOptionsSchema>
export type StreetScenesWriteOptionsInput = z.input<typeof StreetScenesWriteOptionsSchema>

export const STREET_OBJECT_KINDS = ['car', 'person', 'rider', 'bicycle', 'pole', 'tree'] as const
export type StreetObjectKind = (typeof STREET_OBJECT_KINDS)[number]
export const FIGURE_OCCLUSIONS = ['car', 'border'] as const

const box = z.tuple([z.number(), z.number(), z.number(), z.number()])

/** One object of a scene. `instance` is its value in the instance map (1-based; 0 is stuff). */
export const StreetObjectSchema = z.object({
  instance: z.number().int().min(1),
  kind: z.enum(STREET_OBJECT_KINDS),
  classId: z.number().int(),
  /** Planned extent [x0, y0, x1, y1] in output pixels, before occlusion and clipping. */
  box,
  /** Where the object meets the ground (may lie below the image for border-cut figures). */
  footY: z.number(),
  /** Pixels of this instance left visible in the label map. */
  visiblePixels: z.number().int(),
  surface: z.enum(['road', 'sidewalk']),
  /** Riders: their bicycle's instance (null when it lies wholly below the border). Bicycles: their rider or null. */
  partner: z.number().int().nullable().optional(),
  /** Riders: why the bicycle is not visible; persons: why the lower body is not. */
  hidden: z.enum(FIGURE_OCCLUSIONS).nullable().optional(),
  /** Cars placed to hide a figure's lower body: that figure's instance. */
  occludes: z.number().int().nullable().optional()
})
export type StreetObject = z.infer<typeof StreetObjectSchema>

export const StreetSceneMetaSchema = z.object({
  width: z.number().int(),
  height: z.number().int(),
  horizonY: z.number(),
  vanishingX: z.number(),
  bikeLane: z.enum(['left', 'right']).nullable(),
  objects: z.array(StreetObjectSchema),
  persons: z.number().int(),
  riders: z.number().int(),
  hiddenBicycleRiders: z.number().int(),
  occludedPersons: z.number().int(),
  cars: z.number().int()
})
export type StreetSceneMeta = z.infer<typeof StreetSceneMetaSchema>

export const StreetScenesSummarySchema = z.object({
  outDir: z.string(),
  counts: z.object({ train: z.number().int(), val: z.number().int(), test: z.number().int() }),
  durationMs: z.number()
})
export type StreetScenesSummary = z.infer<typeof StreetScenesSummarySchema>

export interface StreetScenesProgress {
  split: StreetSceneSplit
  /** Images finished over all splits. */
  done: number
  total: number
}
