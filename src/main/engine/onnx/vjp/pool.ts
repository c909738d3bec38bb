import { attrInts, elementCount, float32Tensor, intAttr, intsAttr, int64Tensor, type IrAttribute } from '../ir'
import { UnsupportedGradientError, type GradContext, type GradRule } from './types'
import { scatterWindows, windowGeometry, type WindowGeometry } from './window'

function poolGeometry(ctx: GradContext): WindowGeometry {
  const node = ctx.node
  const kernel = attrInts(node, 'kernel_shape')
  if (!kernel) throw new UnsupportedGradientError(node, 'no kernel_shape')
  return windowGeometry(node, kernel, ctx.shape(node.inputs[0]), ctx.shape(node.outputs[0]))
}

/** Kernel offsets in row-major order, the order ONNX Runtime scans a window in. */
function kernelOffsets(kernel: number[]): number[][] {
  let offsets: number[][] = [[]]
  for (const k of kernel) offsets = offsets.flatMap((o) => Array.from({ length: k }, (_, i) => [...o, i]))
  return offsets
}

/** Every output position of the pooled grid, row-major. */
function outputPositions(outSize: number[]): number[][] {
  return kernelOffsets(outSize)
}

/**
 * Depthwise ConvTranspose weights [C*K, 1, ...kernel]: channel c*K + k carries a single 1 at kernel offset k, so that
 * channel (c, k) of the input is scattered to window position k of channel c.
 */
function oneHotKernels(ctx: GradContext, channels: number, kernel: number[]): string {
  const k = elementCount(kernel)
  const w = new Float32Array(channels * k * k)
  for (let c = 0; c < channels; c++) for (let j = 0; j < k; j++) w[(c * k + j) * k + j] = 1
  return ctx.float(w, [channels * k, 1, ...kernel])
}

/**
 * dL/dx of MaxPool: each output's gradient goes to the one input its max came from, summed where overlapping
 * windows (ResNet's 3x3 stride 2) pick the same input. MaxPool's Indices + MaxUnpool would drop those sums
 * (MaxUnpool writes, it does not add). The rule re-runs the pool with its Indices output and scatters dL/dy there
 * (scatterAtIndices). At opsets 8-10, without ScatterElements, the Indices become one equality mask per kernel
 * offset ("the max of this window sits at offset k") and a depthwise ConvTranspose scatters the masked gradients,
 * adding overlaps (ORT profile: 2-4x slower than the scatter, mostly in the K-fold masks).
 * Ties: ONNX Runtime's Indices name the first maximum in row-major window order (PyTorch picks the same one), so
 * exactly one input per window receives the gradient.
 */
export const maxPoolGrad: GradRule = (ctx, gradOutputs, wanted) => {
  const node = ctx.node
  if (gradOutputs.slice(1).some((g) => g !== undefined)) throw new UnsupportedGradientError(node, 'a gradient through the Indices output')
  const gy = gradOutputs[0]
  if (!wanted[0] || !gy) return [undefined]
  if (ctx.opset < 8) throw new UnsupportedGradientError(node, `opset ${ctx.opset} (MaxPool has no Indices output before opset 8)`)
  const geo = poolGeometry(ctx)
  const xShape = ctx.shape(node.inputs[0])
  const [n, c] = xShape
  const plane = elementCount(geo.inSize)
  const attributes: Record<string, IrAttribute> = {}
  for (const [name, a] of Object.entries(node.attributes)) if (name !== 'storage_order') attributes[name] = a
  const indices = ctx.emit('MaxPool', [node.inputs[0]], attributes, 2)[1]
  if (ctx.opset >= 11) return [scatterAtIndices(ctx, gy, indices, xShape, geo)]
  // Indices count over the whole tensor; the per-plane index is what the window offsets are compared with.
  const planeBase = ctx.constantTensor(int64Tensor(Array.from({ length: n * c }, (_, i) => i * plane), [n, c, ...geo.outSize.map(() => 1)]))
  const local = ctx.emit('Sub', [indices, planeBase])[0]
  const offsets = kernelOffsets(geo.kernel)
  const positions = outputPositions(geo.outSize)
  const expected = new Array<number>(offsets.length * positions.length)
  offsets.forEach((k, ki) => {
    positions.forEach((o, oi) => {
      let flat = 0
      let inside = true
      for (let a = 0; a < k.length; a++) {
        const p = o[a] * geo.strides[a] - geo.padsBegin[a] + k[a] * geo.dilations[a]
        if (p < 0 || p >= geo.inSize[a]) inside = false
        flat = flat * geo.inSize[a] + p
      }
      expected[ki * positions.length + oi] = inside ? flat : -1
    })
  })
  const expectedName = ctx.constantTensor(int64Tensor(expected, [offsets.length, ...geo.outSize]))
  const localPerOffset = ctx.emit('Reshape', [local, ctx.int64([n, c, 1, ...geo.outSize])])[0]
  const mask = ctx.emit('Cast', [ctx.emit('Equal', [localPerOffset, expectedName])[0]], { to: intAttr(1) })[0]
  const gyPerOffset = ctx.emit('Reshape', [gy, ctx.int64([n, c, 1, ...geo.outSize])])[0]
  const routed = ctx.emit('Mul', [mask, gyPerOffset])[0]
  const stacked = ctx.emit('Reshape', [routed, ctx.int64([n, c * offsets.length, ...geo.outSize])])[0]
  return [scatterWindows(ctx, stacked, oneHotKernels(ctx, c, geo.kernel), c, geo)]
}

/**
 * dL/dy added into zeros at the flat Indices. From opset 16 ScatterElements adds duplicates itself. Before, it
 * overwrites, so the output grid is split into classes of windows that cannot overlap (outputs ceil(dk/s) apart
 * on each axis) and each class is added in turn with a gather-add-scatter; a non-overlapping pool (U-Net's 2x2)
 * is one class and one scatter.
 */
function scatterAtIndices(ctx: GradContext, gy: string, indices: string, xShape: number[], geo: WindowGeometry): string {
  const zeros = ctx.emit('ConstantOfShape', [ctx.int64([elementCount(xShape)])], { value: { kind: 'tensor', value: float32Tensor([0], [1]) } })[0]
  const flat = (v: string) => ctx.emit('Reshape', [v, ctx.int64([-1])])[0]
  const axis = { axis: intAttr(0) }
  if (ctx.opset >= 16) {
    const scattered = ctx.emit('ScatterElements', [zeros, flat(indices), flat(gy)], { ...axis, reduction: { kind: 'string', value: 'add' } })[0]
    return ctx.emit('Reshape', [scattered, ctx.int64(xShape)])[0]
  }
  const apart = geo.kernel.map((k, i) => Math.min(Math.ceil((geo.dilations[i] * (k - 1) + 1) / geo.strides[i]), geo.outSize[i]))
  const axes = apart.map((_, i) => 2 + i)
  let data = zeros
  for (const start of kernelOffsets(apart)) {
    const pick = (v: string) =>
      apart.every((a) => a === 1) ? flat(v) : flat(ctx.emit('Slice', [v, ctx.int64(start), ctx.int64(geo.outSize), ctx.int64(axes), ctx.int64(apart)])[0])
    const idx = pick(indices)
    const g = pick(gy)
    const updates = data === zeros ? g : ctx.emit('Add', [ctx.emit('GatherElements', [data, idx], axis)[0], g])[0]
    data = ctx.emit('ScatterElements', [data, idx, updates], axis)[0]
  }
  return ctx.emit('Reshape', [data, ctx.int64(xShape)])[0]
}

/**
 * dL/dx of AveragePool: y_o = w_o * (sum of the inputs in window o), so dL/dx is the depthwise all-ones scatter of
 * w_o * dL/dy_o. The divisor behind w_o (kernel size, pixels inside the image, or the part of a ceil_mode window
 * inside the padded image) differs between runtimes, so it is not re-derived: the graph pools a constant image of
 * ones with the node's own attributes (giving count_o / divisor_o) and divides by the window's in-image count.
 */
export const averagePoolGrad: GradRule = (ctx, gradOutputs, wanted) => {
  const node = ctx.node
  const gy = gradOutputs[0]
  if (!wanted[0] || !gy) return [undefined]
  const geo = poolGeometry(ctx)
  const c = ctx.shape(node.inputs[0])[1]
  const counts = outputPositions(geo.outSize).map((o) => {
    let count = 1
    for (let a = 0; a < o.length; a++) {
      let inside = 0
      for (let k = 0; k < geo.kernel[a]; k++) {
        const p = o[a] * geo.strides[a] - geo.padsBegin[a] + k * geo.dilations[a]
        if (p >= 0 && p < geo.inSize[a]) inside++
      }
      count *= inside
    }
    return count
  })
  if (counts.some((k) => k === 0)) throw new UnsupportedGradientError(node, 'a pooling window entirely outside the input')
  const ones = ctx.float(new Float32Array(elementCount(geo.inSize)).fill(1), [1, 1, ...geo.inSize])
  const pooledOnes = ctx.emit('AveragePool', [ones], node.attributes)[0]
  const weights = ctx.emit('Div', [pooledOnes, ctx.float(counts, [1, 1, ...geo.outSize])])[0]
  const weighted = ctx.emit('Mul', [gy, weights])[0]
  const kernelOnes = ctx.float(new Float32Array(c * elementCount(geo.kernel)).fill(1), [c, 1, ...geo.kernel])
  return [scatterWindows(ctx, weighted, kernelOnes, c, geo)]
}

/** dL/dx of GlobalAveragePool: dL/dy spread evenly over each plane (a broadcasting Mul with 1/(H*W)). */
export const globalAveragePoolGrad: GradRule = (ctx, gradOutputs, wanted) => {
  const gy = gradOutputs[0]
  if (!wanted[0] || !gy) return [undefined]
  const spatial = ctx.shape(ctx.node.inputs[0]).slice(2)
  const n = elementCount(spatial)
  return [ctx.emit('Mul', [gy, ctx.float(new Float32Array(n).fill(1 / n), [1, 1, ...spatial])])[0]]
}

/**
 * dL/dx of GlobalMaxPool: dL/dy at the plane's maximum. A MaxPool over the whole plane supplies the index of the
 * first maximum (ties go to one input, as in PyTorch), compared with every position's index.
 */
export const globalMaxPoolGrad: GradRule = (ctx, gradOutputs, wanted) => {
  const node = ctx.node
  const gy = gradOutputs[0]
  if (!wanted[0] || !gy) return [undefined]
  if (ctx.opset < 8) throw new UnsupportedGradientError(node, `opset ${ctx.opset} (MaxPool has no Indices output before opset 8)`)
  const xShape = ctx.shape(node.inputs[0])
  const [n, c] = xShape
  const spatial = xShape.slice(2)
  const plane = elementCount(spatial)
  const indices = ctx.emit('MaxPool', [node.inputs[0]], { kernel_shape: intsAttr(spatial) }, 2)[1]
  const planeBase = ctx.constantTensor(int64Tensor(Array.from({ length: n * c }, (_, i) => i * plane), [n, c, ...spatial.map(() => 1)]))
  const local = ctx.emit('Sub', [indices, planeBase])[0]
  const iota = ctx.constantTensor(int64Tensor(Array.from({ length: plane }, (_, i) => i), [1, 1, ...spatial]))
  const mask = ctx.emit('Cast', [ctx.emit('Equal', [local, iota])[0]], { to: intAttr(1) })[0]
  return [ctx.emit('Mul', [mask, gy])[0]]
}
