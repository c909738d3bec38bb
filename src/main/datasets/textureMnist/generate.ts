import { AppError } from '@common/errors'
import {
  TEXTURE_MNIST_SIZE,
  TextureMnistSpecSchema,
  type TextureMnistMeta,
  type TextureMnistProgress,
  type TextureMnistSpec,
  type TextureMnistSpecInput,
  type TextureMnistSplit
} from '@common/textureMnist'
import { throwIfAborted, yieldToEventLoop } from '../../cancellation'
import { createSampler, type SplitSampler } from './compose'
import { loadMnist } from './mnist'
import { defaultTextures } from './textures'

export interface GenerateHooks {
  onProgress?: (p: TextureMnistProgress) => void
  signal?: AbortSignal
}

/** Parses a spec, turning schema failures into the contract's error. */
export function parseSpec(input: TextureMnistSpecInput): TextureMnistSpec {
  const parsed = TextureMnistSpecSchema.safeParse(input)
  if (!parsed.success) throw new AppError('INVALID_PARAMETERS', 'invalid texture-MNIST options', parsed.error.issues)
  return parsed.data
}

export function samplerFor(spec: TextureMnistSpec, split: TextureMnistSplit): SplitSampler {
  return createSampler(spec, split, loadMnist(split, spec.mnistDir), defaultTextures())
}

/** What a cancelled generation says (throwIfAborted in ../../cancellation). */
export const TEXTURE_MNIST_CANCELLED = 'texture-MNIST generation cancelled'

export interface TextureMnistArrays {
  split: TextureMnistSplit
  size: number
  count: number
  /** count × size × size, row-major, values in [0, 1]. */
  images: Float32Array
  /** count × size × size class ids: the digit, or 10 for background. */
  labels: Uint8Array
  meta: TextureMnistMeta[]
}

/**
 * One split in memory, for training and the benchmark. `start`/`count` select a range of the split's images
 * (image i is the same whichever range it is generated in); by default the whole split as the spec sizes it.
 */
export async function generateTextureMnistArrays(
  input: TextureMnistSpecInput,
  split: TextureMnistSplit,
  hooks: GenerateHooks & { start?: number; count?: number } = {}
): Promise<TextureMnistArrays> {
  const spec = parseSpec(input)
  const sampler = samplerFor(spec, split)
  const start = hooks.start ?? 0
  const count = hooks.count ?? Math.max(0, sampler.count - start)
  const px = TEXTURE_MNIST_SIZE * TEXTURE_MNIST_SIZE
  const images = new Float32Array(count * px)
  const labels = new Uint8Array(count * px)
  const meta: TextureMnistMeta[] = []
  for (let i = 0; i < count; i++) {
    if (i % 256 === 0) {
      await yieldToEventLoop()
      throwIfAborted(hooks.signal, TEXTURE_MNIST_CANCELLED)
    }
    meta.push(sampler.render(start + i, images.subarray(i * px, (i + 1) * px), labels.subarray(i * px, (i + 1) * px)))
    hooks.onProgress?.({ split, done: i + 1, total: count })
  }
  return { split, size: TEXTURE_MNIST_SIZE, count, images, labels, meta }
}
