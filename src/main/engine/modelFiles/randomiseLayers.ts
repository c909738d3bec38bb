import type * as tf from '@tensorflow/tfjs'
import { AppError } from '@common/errors'
import type { ModelSidecar } from '@common/modelSidecar'
import { HASH_FAMILY, hashInts, normalStream, uniform01 } from '../../prng'
import { fsHandler, loadModelArtifacts, modelJsonPath, readModelJson } from './fsHandler'
import { readSidecar, writeSidecar } from './index'

/**
 * Cascading randomisation of a saved Keras-style layers model (Adebayo et al. 2018, "Sanity Checks for Saliency
 * Maps"): the weights of the top k weighted layers are re-initialised, the rest kept, and the result is written as
 * a new model folder that the engine opens like any other.
 *
 * Re-initialised means drawn again from the layer's own initialiser as model.json records it (He-normal
 * convolutions, batch norms back to γ = 1, β = 0 and moving statistics 0/1), with our seed: the layer is as it was
 * before training, at the scale training started from, so activations neither die nor explode and what is lost is
 * exactly what was learned. An initialiser we do not know gives way to a normal with the trained tensor's own mean
 * and standard deviation (the same scale). Each tensor's stream is seeded by (seed, weight name), so a weight
 * re-initialised at one stage is the same at every later stage: the stages are a true cascade.
 */

/** One step of the cascade: a weighted layer, with the batch norm that normalises its output when there is one. */
export interface CascadeUnit {
  layers: string[]
  weights: string[]
}

interface LayerJson {
  class_name: string
  name?: string
  config: Record<string, unknown> & { name?: string }
  inbound_nodes?: unknown
}

function invalid(message: string): AppError {
  return new AppError('MODEL_FILE_INVALID', message)
}

function topologyLayers(json: tf.io.ModelJSON, where: string): { layers: LayerJson[]; sequential: boolean } {
  const t = json.modelTopology as Record<string, unknown>
  const model = (t.model_config ?? t) as { class_name?: string; config?: unknown }
  if (model.class_name === 'Sequential') {
    const c = model.config as { layers?: unknown } | unknown[]
    const layers = Array.isArray(c) ? c : (c as { layers?: unknown }).layers
    if (Array.isArray(layers)) return { layers: layers as LayerJson[], sequential: true }
  } else {
    const layers = (model.config as { layers?: unknown } | undefined)?.layers
    if (Array.isArray(layers)) return { layers: layers as LayerJson[], sequential: false }
  }
  throw invalid(`${where} has no Keras layer list: the sanity check re-initialises layers of a tfjs layers-model (not a graph-model)`)
}

const layerName = (l: LayerJson): string => l.config.name ?? l.name ?? ''

/** The single layer feeding a functional layer (tfjs writes inbound nodes as [[[name, node, tensor, kwargs]]]). */
function singleInbound(l: LayerJson): string | null {
  const nodes = l.inbound_nodes
  if (!Array.isArray(nodes) || nodes.length !== 1 || !Array.isArray(nodes[0]) || nodes[0].length !== 1) return null
  const first = (nodes[0] as unknown[])[0]
  return Array.isArray(first) && typeof first[0] === 'string' ? first[0] : null
}

/** The layer a weight belongs to: the innermost path segment of its name that names a layer. */
function ownerOf(weight: string, names: Set<string>): string | null {
  const parts = weight.split('/').slice(0, -1)
  for (let i = parts.length - 1; i >= 0; i--) if (names.has(parts[i])) return parts[i]
  return null
}

/** The model's weighted layers in topological order (input first), each with the batch norm that follows it. */
export function cascadeUnits(json: tf.io.ModelJSON, where = 'model.json'): CascadeUnit[] {
  const { layers, sequential } = topologyLayers(json, where)
  const names = new Set(layers.map(layerName))
  const weightsOf = new Map<string, string[]>()
  for (const spec of (json.weightsManifest ?? []).flatMap((g) => g.weights)) {
    const owner = ownerOf(spec.name, names)
    if (owner === null) throw invalid(`${where}: weight '${spec.name}' belongs to no layer of the topology`)
    weightsOf.set(owner, [...(weightsOf.get(owner) ?? []), spec.name])
  }
  const units: CascadeUnit[] = []
  const unitOf = new Map<string, CascadeUnit>()
  let previous: string | null = null
  for (const l of layers) {
    const name = layerName(l)
    const weights = weightsOf.get(name) ?? []
    if (weights.length) {
      const input = sequential ? previous : singleInbound(l)
      const head = input === null ? undefined : unitOf.get(input)
      // A batch norm right after a weighted layer is that layer's normalisation: re-initialising the convolution
      // but keeping statistics measured on its trained output would shift every activation, not randomise it.
      if (l.class_name === 'BatchNormalization' && head && head.layers.length === 1 && head.layers[0] === input) {
        head.layers.push(name)
        head.weights.push(...weights)
        unitOf.set(name, head)
      } else {
        const unit = { layers: [name], weights: [...weights] }
        units.push(unit)
        unitOf.set(name, unit)
      }
    }
    previous = name
  }
  return units
}

interface InitialiserJson {
  class_name: string
  config?: Record<string, unknown>
}

/** Keras's defaults when a layer's config does not name an initialiser. */
const DEFAULT_INITIALISERS: Record<string, InitialiserJson> = {
  kernel: { class_name: 'GlorotUniform' },
  depthwise_kernel: { class_name: 'GlorotUniform' },
  pointwise_kernel: { class_name: 'GlorotUniform' },
  bias: { class_name: 'Zeros' },
  gamma: { class_name: 'Ones' },
  beta: { class_name: 'Zeros' },
  moving_mean: { class_name: 'Zeros' },
  moving_variance: { class_name: 'Ones' }
}
const CONFIG_KEY: Record<string, string> = {
  kernel: 'kernel_initializer',
  depthwise_kernel: 'depthwise_initializer',
  pointwise_kernel: 'pointwise_initializer',
  bias: 'bias_initializer',
  gamma: 'gamma_initializer',
  beta: 'beta_initializer',
  moving_mean: 'moving_mean_initializer',
  moving_variance: 'moving_variance_initializer'
}
/** The named variance-scaling initialisers as (scale, mode, distribution). */
const VARIANCE_SCALING: Record<string, [number, string, string]> = {
  GlorotUniform: [1, 'fan_avg', 'uniform'],
  GlorotNormal: [1, 'fan_avg', 'normal'],
  HeUniform: [2, 'fan_in', 'uniform'],
  HeNormal: [2, 'fan_in', 'normal'],
  LeCunUniform: [1, 'fan_in', 'uniform'],
  LeCunNormal: [1, 'fan_in', 'normal']
}

/** tfjs's computeFans: the last two axes are (in, out), the leading ones the receptive field. */
function fans(shape: number[]): { fanIn: number; fanOut: number } {
  if (shape.length === 2) return { fanIn: shape[0], fanOut: shape[1] }
  if (shape.length >= 3) {
    const receptive = shape.slice(0, -2).reduce((a, b) => a * b, 1)
    return { fanIn: shape[shape.length - 2] * receptive, fanOut: shape[shape.length - 1] * receptive }
  }
  const n = Math.sqrt(shape.reduce((a, b) => a * b, 1))
  return { fanIn: n, fanOut: n }
}

/** How a tensor is redrawn, in words, for the report. */
export type InitialiserUsed = string

/**
 * Fill `out` from the initialiser, or return false when it is not one we draw from (the caller then falls back).
 * Truncated normals are redrawn beyond two standard deviations, as tfjs's are.
 */
function drawInitialiser(init: InitialiserJson, shape: number[], out: Float32Array, random: () => number): string | null {
  const c = init.config ?? {}
  const num = (k: string, d: number): number => (typeof c[k] === 'number' ? (c[k] as number) : d)
  const normal = normalStream(random)
  const truncated = (mean: number, std: number): number => {
    for (;;) {
      const z = normal()
      if (Math.abs(z) <= 2) return mean + std * z
    }
  }
  switch (init.class_name) {
    case 'Zeros':
      out.fill(0)
      return 'zeros'
    case 'Ones':
      out.fill(1)
      return 'ones'
    case 'Constant':
      out.fill(num('value', 0))
      return `constant ${num('value', 0)}`
    case 'RandomNormal': {
      const [m, s] = [num('mean', 0), num('stddev', 0.05)]
      for (let i = 0; i < out.length; i++) out[i] = m + s * normal()
      return `normal(${m}, ${s})`
    }
    case 'TruncatedNormal': {
      const [m, s] = [num('mean', 0), num('stddev', 0.05)]
      for (let i = 0; i < out.length; i++) out[i] = truncated(m, s)
      return `truncated normal(${m}, ${s})`
    }
    case 'RandomUniform': {
      const [lo, hi] = [num('minval', -0.05), num('maxval', 0.05)]
      for (let i = 0; i < out.length; i++) out[i] = lo + (hi - lo) * random()
      return `uniform(${lo}, ${hi})`
    }
  }
  const named = VARIANCE_SCALING[init.class_name]
  if (!named && init.class_name !== 'VarianceScaling') return null
  const [scale0, mode, distribution] = named ?? [num('scale', 1), String(c.mode ?? 'fan_in'), String(c.distribution ?? 'normal')]
  const { fanIn, fanOut } = fans(shape)
  const fan = mode === 'fan_out' ? fanOut : mode === 'fan_avg' ? (fanIn + fanOut) / 2 : fanIn
  const scale = scale0 / Math.max(1, fan)
  if (distribution === 'uniform') {
    const limit = Math.sqrt(3 * scale)
    for (let i = 0; i < out.length; i++) out[i] = -limit + 2 * limit * random()
    return `${init.class_name} (uniform ±${limit.toPrecision(3)})`
  }
  const std = Math.sqrt(scale)
  for (let i = 0; i < out.length; i++) out[i] = distribution === 'untruncated_normal' ? std * normal() : truncated(0, std)
  return `${init.class_name} (normal, std ${std.toPrecision(3)})`
}

/** The trained tensor's own mean and standard deviation, when its initialiser is unknown. */
function drawSameScale(trained: Float32Array, out: Float32Array, random: () => number): string {
  let mean = 0
  for (const v of trained) mean += v
  mean /= Math.max(1, trained.length)
  let variance = 0
  for (const v of trained) variance += (v - mean) ** 2
  const std = Math.sqrt(variance / Math.max(1, trained.length))
  const normal = normalStream(random)
  for (let i = 0; i < out.length; i++) out[i] = mean + std * normal()
  return `normal with the trained tensor's mean ${mean.toPrecision(3)} and std ${std.toPrecision(3)}`
}

const BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 }

/** Byte offset and length of every weight in the concatenated shards. */
function weightLayout(specs: tf.io.WeightsManifestEntry[]): Map<string, { spec: tf.io.WeightsManifestEntry; offset: number; bytes: number }> {
  const out = new Map<string, { spec: tf.io.WeightsManifestEntry; offset: number; bytes: number }>()
  let offset = 0
  for (const spec of specs) {
    const per = BYTES[spec.quantization?.dtype ?? spec.dtype]
    if (per === undefined) throw invalid(`weight '${spec.name}' has dtype ${spec.dtype}, which has no fixed size`)
    const bytes = spec.shape.reduce((a, b) => a * b, 1) * per
    out.set(spec.name, { spec, offset, bytes })
    offset += bytes
  }
  return out
}

/** Same seed and weight name, same stream: what makes the stages a cascade. */
function weightSeed(seed: number, name: string): number {
  return hashInts(HASH_FAMILY.randomisedWeights, [seed, ...Array.from(name, (ch) => ch.codePointAt(0)!)])
}

export interface RandomisedModel {
  dir: string
  sidecar: ModelSidecar
  /** Layers re-initialised, output layer first. */
  layers: string[]
  /** How each re-initialised weight was drawn. */
  draws: Record<string, InitialiserUsed>
}

/**
 * Write to `outDir` a copy of the model at `srcDir` whose top `count` cascade units (see cascadeUnits) are
 * re-initialised with `seed`; every other weight is kept byte for byte. The copy gets its own sidecar (same classes,
 * input and normalisation), so the engine opens and verifies it like any model folder.
 */
export async function writeRandomisedModel(srcDir: string, outDir: string, count: number, seed: number): Promise<RandomisedModel> {
  const jsonPath = modelJsonPath(srcDir)
  const { json } = await readModelJson(jsonPath)
  const units = cascadeUnits(json, jsonPath)
  if (count < 1 || count > units.length) throw new RangeError(`cannot re-initialise ${count} of ${units.length} layers`)
  const chosen = units.slice(units.length - count).reverse()
  const artifacts = await loadModelArtifacts(srcDir)
  const specs = artifacts.weightSpecs ?? []
  const parts = artifacts.weightData === undefined ? [] : Array.isArray(artifacts.weightData) ? artifacts.weightData : [artifacts.weightData]
  const data = new Uint8Array(parts.reduce((a, p) => a + p.byteLength, 0))
  parts.reduce((at, p) => (data.set(new Uint8Array(p), at), at + p.byteLength), 0)
  const layout = weightLayout(specs)
  const layerConfigs = new Map(topologyLayers(json, jsonPath).layers.map((l) => [layerName(l), l.config]))
  const names = new Set(layerConfigs.keys())
  const draws: Record<string, string> = {}
  for (const unit of chosen) {
    for (const name of unit.weights) {
      const w = layout.get(name)!
      if (w.spec.dtype !== 'float32' || w.spec.quantization) {
        throw invalid(`${jsonPath}: weight '${name}' is ${w.spec.quantization ? 'quantised' : w.spec.dtype}; only float32 weights can be re-initialised`)
      }
      const out = new Float32Array(data.buffer, w.offset, w.bytes / 4)
      const random = uniform01(weightSeed(seed, name))
      const kind = name.slice(name.lastIndexOf('/') + 1)
      const owner = ownerOf(name, names)!
      const configured = layerConfigs.get(owner)?.[CONFIG_KEY[kind] ?? ''] as InitialiserJson | null | undefined
      const init = configured ?? DEFAULT_INITIALISERS[kind]
      const trained = Float32Array.from(out)
      draws[name] = (init && drawInitialiser(init, w.spec.shape, out, random)) ?? drawSameScale(trained, out, random)
    }
  }
  await fsHandler(outDir).save!({
    modelTopology: artifacts.modelTopology,
    format: artifacts.format,
    generatedBy: artifacts.generatedBy,
    convertedBy: artifacts.convertedBy,
    weightSpecs: specs,
    weightData: data.buffer
  })
  const {
    format: _format,
    version: _version,
    contentHash: _hash,
    modelFormat: _modelFormat,
    training: _training,
    createdAt: _createdAt,
    ...description
  } = await readSidecar(srcDir)
  const layers = chosen.flatMap((u) => u.layers)
  const sidecar = await writeSidecar(outDir, {
    ...description,
    name: `${description.name} · top ${count} of ${units.length} layers re-initialised (seed ${seed})`
  })
  return { dir: outDir, sidecar, layers, draws }
}
