import { AppError } from '@common/errors'
import { interpolationMatrix } from '../segmentationModel'
import { addInputGradient, toAttribute } from './build'
import { type FoldedModel, foldModel } from './fold'
import { type AttrValue, encodeModel, type IrAttribute, type IrModel, type IrTensor, type IrValueInfo, float32Tensor, int64Tensor, intsAttr } from './ir'

/**
 * The graphs Context Lens runs on ONNX Runtime: the user's (folded) model wrapped so that every tensor a caller
 * sees is NHWC float32 at a fixed batch and image size, plus the saliency objectives of Eq. 2/3 and the request
 * score, with their input gradients appended by the builder. They compute exactly what src/main/saliency/
 * (perturbation.ts, batch.ts, upsample.ts) computes with tfjs, so either runtime gives the same explanation.
 */

export interface OnnxModelDescription {
  layout: 'NCHW' | 'NHWC'
  output: 'logits' | 'probabilities'
  numClasses: number
}

export interface ObjectiveGeometry {
  batch: number
  height: number
  width: number
  channels: number
  /** Low-resolution mask size, for the perturbation graphs. */
  maskHeight?: number
  maskWidth?: number
}

/**
 * predict: images → probabilities. perturbation: the loss terms of Eq. 2/3 and gradMasks; perturbationLoss: the
 * same terms without the gradient (final evaluation). scoreGradient: the request score and gradImages (VG/IG/SG).
 */
export type ObjectiveKind = 'predict' | 'perturbation' | 'perturbationLoss' | 'scoreGradient'

/** Emits nodes into a graph while recording every new value's static shape (the builder needs them). */
class Composer {
  private readonly names: Set<string>
  private counter = 0
  constructor(
    readonly model: IrModel,
    readonly shapes: Map<string, number[]>
  ) {
    const g = model.graph
    this.names = new Set([...g.inputs.map((i) => i.name), ...g.initializers.keys(), ...g.nodes.flatMap((n) => [...n.outputs, n.name])])
  }
  get opset(): number {
    return this.model.opset
  }
  fresh(base: string): string {
    let name = `cl/${base}`
    while (this.names.has(name)) name = `cl/${base}_${++this.counter}`
    this.names.add(name)
    return name
  }
  op(opType: string, inputs: string[], shape: number[], attributes: Record<string, IrAttribute | AttrValue> = {}, name = opType): string {
    const out = this.fresh(name)
    const attrs: Record<string, IrAttribute> = {}
    for (const [k, v] of Object.entries(attributes)) attrs[k] = toAttribute(v)
    this.model.graph.nodes.push({ name: `${out}/node`, opType, domain: '', inputs, outputs: [out], attributes: attrs })
    this.shapes.set(out, shape)
    return out
  }
  constant(t: IrTensor, name = 'const'): string {
    const n = this.fresh(name)
    this.model.graph.initializers.set(n, t)
    this.shapes.set(n, [...t.dims])
    return n
  }
  input(name: string, shape: number[]): string {
    if (this.names.has(name)) throw new AppError('MODEL_FILE_INVALID', `the model already has a value named '${name}'`)
    this.names.add(name)
    this.model.graph.inputs.push({ name, dataType: 'float32', shape })
    this.shapes.set(name, shape)
    return name
  }
  output(value: string, name: string): void {
    const shape = this.shapes.get(value)!
    this.model.graph.nodes.push({ name: this.fresh(`${name}/output`), opType: 'Identity', domain: '', inputs: [value], outputs: [name], attributes: {} })
    this.names.add(name)
    this.shapes.set(name, shape)
    this.model.graph.outputs.push({ name, dataType: 'float32', shape } satisfies IrValueInfo)
  }
  reshape(x: string, shape: number[]): string {
    return this.op('Reshape', [x, this.constant(int64Tensor(shape), 'shape')], shape)
  }
  transpose(x: string, perm: number[]): string {
    const s = this.shapes.get(x)!
    return this.op('Transpose', [x], perm.map((p) => s[p]), { perm: intsAttr(perm) })
  }
  reduceSum(x: string, axes: number[]): string {
    const s = this.shapes.get(x)!
    const shape = s.filter((_, i) => !axes.includes(i))
    if (this.opset >= 13) return this.op('ReduceSum', [x, this.constant(int64Tensor(axes), 'axes')], shape, { keepdims: 0 })
    return this.op('ReduceSum', [x], shape, { axes: intsAttr(axes), keepdims: 0 })
  }
  binary(opType: 'Add' | 'Sub' | 'Mul' | 'Div' | 'MatMul', a: string, b: string, shape?: number[]): string {
    const sa = this.shapes.get(a)!
    const sb = this.shapes.get(b)!
    const rank = Math.max(sa.length, sb.length)
    const pad = (s: number[]): number[] => [...new Array<number>(rank - s.length).fill(1), ...s]
    const out = shape ?? pad(sa).map((d, i) => Math.max(d, pad(sb)[i]))
    return this.op(opType, [a, b], out)
  }
}

/** The folded model's input and output, checked against the description and geometry. */
function checkGeometry(folded: FoldedModel, description: OnnxModelDescription, geometry: ObjectiveGeometry, source: string) {
  const g = folded.model.graph
  const input = g.inputs[0].name
  const output = g.outputs[0].name
  const outShape = folded.shapes.get(output)!
  const { batch: b, height: h, width: w, channels: c } = geometry
  const expectedIn = description.layout === 'NCHW' ? [b, c, h, w] : [b, h, w, c]
  const inShape = folded.shapes.get(input)!
  if (inShape.join() !== expectedIn.join()) {
    throw new AppError('REQUEST_SIZE_MISMATCH', `${source}: the model was folded for input ${inShape.join('×')}, the objective needs ${expectedIn.join('×')}`)
  }
  if (outShape.length !== 4) {
    throw new AppError('MODEL_OUTPUT_MISMATCH', `${source}: output '${output}' has shape ${outShape.join('×')}; expected a per-pixel class map (rank 4)`)
  }
  const [k, oh, ow] = description.layout === 'NCHW' ? [outShape[1], outShape[2], outShape[3]] : [outShape[3], outShape[1], outShape[2]]
  if (k !== description.numClasses) {
    throw new AppError('MODEL_OUTPUT_MISMATCH', `${source}: output '${output}' has ${k} channels but the description names ${description.numClasses} classes`)
  }
  if (outShape[0] !== b || h % oh !== 0 || w % ow !== 0) {
    throw new AppError(
      'MODEL_OUTPUT_MISMATCH',
      `${source}: output '${output}' is ${oh}×${ow}, neither the input's ${h}×${w} nor an integer fraction of it`
    )
  }
  return { input, output, outShape, factor: [h / oh, w / ow] as [number, number] }
}

/**
 * images [B,H,W,C] → probabilities [B,H,W,K]: layout transposes, Resize (linear, half_pixel: the same weights as
 * interpolationMatrix) of a lower-resolution output before the softmax, softmax over classes for logits.
 */
function appendPredict(c: Composer, folded: FoldedModel, description: OnnxModelDescription, geometry: ObjectiveGeometry, images: string, source: string): string {
  const { input, output, factor } = checkGeometry(folded, description, geometry, source)
  const x = description.layout === 'NCHW' ? c.transpose(images, [0, 3, 1, 2]) : images
  // The model reads the composed value instead of its own input.
  for (const n of c.model.graph.nodes) n.inputs = n.inputs.map((v) => (v === input ? x : v))
  c.model.graph.inputs = c.model.graph.inputs.filter((i) => i.name !== input)
  c.model.graph.outputs = c.model.graph.outputs.filter((o) => o.name !== output)
  let y = output
  if (factor[0] !== 1 || factor[1] !== 1) {
    // Resized in NCHW, the layout every ONNX Runtime provider's linear Resize supports.
    if (description.layout === 'NHWC') y = c.transpose(y, [0, 3, 1, 2])
    const s = c.shapes.get(y)!
    const roi = c.constant(float32Tensor([], [0]), 'roi')
    const scales = c.constant(float32Tensor([1, 1, factor[0], factor[1]], [4]), 'scales')
    y = c.op('Resize', [y, roi, scales], [s[0], s[1], geometry.height, geometry.width], { mode: 'linear', coordinate_transformation_mode: 'half_pixel' })
    y = c.transpose(y, [0, 2, 3, 1])
  } else if (description.layout === 'NCHW') {
    y = c.transpose(y, [0, 2, 3, 1])
  }
  if (description.output === 'logits') {
    // Axis 3 of a 4-D tensor: before opset 13 that coerces to [B·H·W, K], which is the same per-pixel softmax.
    y = c.op('Softmax', [y], c.shapes.get(y)!, { axis: 3 })
  }
  return y
}

/** f_c per pixel: Σ_k probs·onehot, [B,H,W]. */
function classProbability(c: Composer, probs: string, classOneHot: string, b: number, k: number): string {
  const onehot = c.reshape(classOneHot, [b, 1, 1, k])
  return c.reduceSum(c.binary('Mul', probs, onehot), [3])
}

/** Names the objective graphs give their own inputs and outputs. */
const RESERVED = new Set([
  'images', 'masks', 'start', 'request', 'classOneHot', 'originalProb', 'lambda', 'clipLow', 'clipHigh',
  'probabilities', 'loss', 'preservation', 'maskL1', 'score', 'gradMasks', 'gradImages'
])

/** Renames the model's values that carry a reserved name (a model whose output is called 'probabilities'...). */
function renameReserved(model: IrModel, shapes: Map<string, number[]>): void {
  const g = model.graph
  const taken = new Set([...g.inputs.map((i) => i.name), ...g.initializers.keys(), ...g.nodes.flatMap((n) => n.outputs)])
  const rename = new Map<string, string>()
  for (const name of taken) {
    if (!RESERVED.has(name)) continue
    let to = `model/${name}`
    for (let k = 1; taken.has(to); k++) to = `model/${name}_${k}`
    taken.add(to)
    rename.set(name, to)
  }
  if (rename.size === 0) return
  const r = (v: string): string => rename.get(v) ?? v
  for (const n of g.nodes) {
    n.inputs = n.inputs.map(r)
    n.outputs = n.outputs.map(r)
  }
  for (const v of [...g.inputs, ...g.outputs]) v.name = r(v.name)
  for (const [from, to] of rename) {
    const t = g.initializers.get(from)
    if (t) {
      g.initializers.delete(from)
      g.initializers.set(to, t)
    }
    const s = shapes.get(from)
    if (s) shapes.set(to, s)
  }
}

/** Composes the objective graph (sync, on an already folded model); returns the IR with gradients appended. */
export function composeObjective(original: FoldedModel, description: OnnxModelDescription, kind: ObjectiveKind, geometry: ObjectiveGeometry, source = 'model'): IrModel {
  let folded = original
  if (folded.model.opset < 11) {
    throw new AppError('MODEL_FILE_INVALID', `${source}: opset ${folded.model.opset} is too old for Context Lens' objective graphs (Clip bounds and Resize need opset 11); re-export with opset 11 or later`)
  }
  const g = folded.model.graph
  const model: IrModel = {
    ...folded.model,
    graph: {
      ...g,
      nodes: g.nodes.map((n) => ({ ...n, inputs: [...n.inputs], outputs: [...n.outputs] })),
      inputs: g.inputs.map((v) => ({ ...v })),
      outputs: g.outputs.map((v) => ({ ...v })),
      initializers: new Map(g.initializers)
    }
  }
  const shapes = new Map(folded.shapes)
  renameReserved(model, shapes)
  folded = { ...folded, model, shapes: new Map(shapes) }
  const c = new Composer(model, shapes)
  const { batch: b, height: h, width: w, channels: ch } = geometry
  const k = description.numClasses
  const outputsOfModel = [...model.graph.outputs]
  model.graph.outputs = [outputsOfModel[0]]

  if (kind === 'predict') {
    const images = c.input('images', [b, h, w, ch])
    c.output(appendPredict(c, folded, description, geometry, images, source), 'probabilities')
    return model
  }

  if (kind === 'scoreGradient') {
    const images = c.input('images', [b, h, w, ch])
    const request = c.input('request', [b, h, w])
    const classOneHot = c.input('classOneHot', [b, k])
    const fc = classProbability(c, appendPredict(c, folded, description, geometry, images, source), classOneHot, b, k)
    const score = c.binary('Div', c.reduceSum(c.binary('Mul', request, fc), [1, 2]), c.reduceSum(request, [1, 2]))
    c.output(score, 'score')
    return addInputGradient(model, c.shapes, { objective: score, wrt: 'images', gradientName: 'gradImages' }, source)
  }

  const mh = geometry.maskHeight
  const mw = geometry.maskWidth
  if (!mh || !mw) throw new AppError('INVALID_PARAMETERS', 'perturbation graphs need maskHeight and maskWidth')
  const masks = c.input('masks', [b, mh, mw])
  const images = c.input('images', [b, h, w, ch])
  const start = c.input('start', [b, h, w, ch])
  const request = c.input('request', [b, h, w])
  const classOneHot = c.input('classOneHot', [b, k])
  const originalProb = c.input('originalProb', [b, h, w])
  const lambda = c.input('lambda', [1])
  const clipLow = c.input('clipLow', [1])
  const clipHigh = c.input('clipHigh', [1])

  // up = A_h · M · A_wᵀ, the matrices of upsample.ts, so the mask means the same on both runtimes.
  const ah = c.constant(float32Tensor(interpolationMatrix(h, mh), [h, mh]), 'A_h')
  const aw = interpolationMatrix(w, mw)
  const awT = new Float32Array(mw * w)
  for (let i = 0; i < w; i++) for (let j = 0; j < mw; j++) awT[j * w + i] = aw[i * mw + j]
  const awTName = c.constant(float32Tensor(awT, [mw, w]), 'A_wT')
  const rows = c.binary('MatMul', ah, masks, [b, h, mw])
  const up = c.reshape(c.binary('MatMul', rows, awTName, [b, h, w]), [b, h, w, 1])
  const one = c.constant(float32Tensor([1], []), 'one')
  // As perturb() writes it (not start + (x − start)∘M), so M = 1 gives x and M = 0 gives start exactly.
  const mixed = c.binary('Add', c.binary('Mul', images, up), c.binary('Mul', start, c.binary('Sub', one, up)))
  const clipped = c.op('Clip', [mixed, c.reshape(clipLow, []), c.reshape(clipHigh, [])], [b, h, w, ch])
  const fc = classProbability(c, appendPredict(c, folded, description, geometry, clipped, source), classOneHot, b, k)
  const area = c.reduceSum(request, [1, 2])
  const shortfall = c.op('Relu', [c.binary('Sub', originalProb, fc)], [b, h, w])
  const preservation = c.binary('Div', c.reduceSum(c.binary('Mul', request, shortfall), [1, 2]), area)
  const maskL1 = c.reduceSum(masks, [1, 2])
  const score = c.binary('Div', c.reduceSum(c.binary('Mul', request, fc), [1, 2]), area)
  const loss = c.binary('Add', c.binary('Mul', lambda, maskL1, [b]), preservation)
  c.output(loss, 'loss')
  c.output(preservation, 'preservation')
  c.output(maskL1, 'maskL1')
  c.output(score, 'score')
  if (kind === 'perturbationLoss') return model
  return addInputGradient(model, c.shapes, { objective: loss, wrt: 'masks', gradientName: 'gradMasks' }, source)
}

/** Model input dims for the description's layout at the geometry's fixed size. */
export function modelInputDims(description: OnnxModelDescription, geometry: ObjectiveGeometry): number[] {
  const { batch: b, height: h, width: w, channels: c } = geometry
  return description.layout === 'NCHW' ? [b, c, h, w] : [b, h, w, c]
}

/** ONNX bytes of one objective graph for ONNX Runtime. Folds the model at the geometry's fixed size first. */
export async function buildObjectiveGraph(model: IrModel, description: OnnxModelDescription, kind: ObjectiveKind, geometry: ObjectiveGeometry, source = 'model'): Promise<Uint8Array> {
  const folded = await foldModel(model, modelInputDims(description, geometry), { source })
  return encodeModel(composeObjective(folded, description, kind, geometry, source))
}
