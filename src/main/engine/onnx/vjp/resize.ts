import { attrFloat, attrInt, attrInts, attrString, tensorNumbers, type IrNode } from '../ir'
import { UnsupportedGradientError, type GradContext, type GradRule } from './types'

/**
 * Resize and Upsample are linear and separable: y = A_0 x A_1^T on the resized axes, each A an [out, in]
 * interpolation matrix. The backward pass multiplies dL/dy by the same matrices transposed. The matrices are
 * built here exactly as ONNX Runtime's CPU kernel builds its forward pass (upsamplebase.h / upsample.cc): the
 * coordinate arithmetic is float32, rounded step by step as in C++, so nearest-neighbour choices on exact halves
 * and the clamping at the borders agree with the forward op; a gradient of a slightly different resize would
 * silently shift saliency by a pixel.
 */

export type CoordinateMode = 'half_pixel' | 'pytorch_half_pixel' | 'align_corners' | 'asymmetric' | 'tf_half_pixel_for_nn' | 'half_pixel_symmetric'
/** 'simple' is Resize-10's and Upsample's rounding (ceil when shrinking, truncation when enlarging). */
export type NearestMode = 'round_prefer_floor' | 'round_prefer_ceil' | 'floor' | 'ceil' | 'simple'

export interface ResizeAxis {
  mode: 'nearest' | 'linear'
  coordinate: CoordinateMode
  nearest: NearestMode
  /** The float32 scale ORT uses for this axis (given, or out/in when sizes were given). */
  scale: number
  inLength: number
  outLength: number
}

const f = Math.fround

function originalCoordinate(mode: CoordinateMode, xr: number, scale: number, lenResized: number, lenOriginal: number): number {
  switch (mode) {
    case 'asymmetric':
      return f(xr / scale)
    case 'pytorch_half_pixel':
      return lenResized > 1 ? f(f(f(xr + 0.5) / scale) - 0.5) : 0
    case 'tf_half_pixel_for_nn':
      return f(f(xr + 0.5) / scale)
    case 'align_corners':
      return lenResized === 1 ? 0 : f(f(xr * f(lenOriginal - 1)) / f(lenResized - 1))
    case 'half_pixel_symmetric': {
      const outputWidth = f(scale * lenOriginal)
      const adjustment = f(lenResized / outputWidth)
      const center = f(lenOriginal / 2)
      const offset = f(center * f(1 - adjustment))
      // (x + 0.5) / scale - 0.5 is evaluated in double in ORT (0.5 is a double literal).
      return f(offset + (xr + 0.5) / scale - 0.5)
    }
    case 'half_pixel':
      return f(f(f(xr + 0.5) / scale) - 0.5)
  }
}

/** std::round: halves away from zero. */
const roundHalfAway = (x: number): number => Math.sign(x) * Math.round(Math.abs(x))

function nearestPixel(mode: NearestMode, x: number, downsampling: boolean): number {
  switch (mode) {
    case 'simple':
      return downsampling ? Math.ceil(x) : Math.trunc(x)
    case 'round_prefer_ceil':
      return roundHalfAway(x)
    case 'floor':
      return Math.floor(x)
    case 'ceil':
      return Math.ceil(x)
    case 'round_prefer_floor':
      return x === f(Math.trunc(x) + 0.5) ? Math.floor(x) : roundHalfAway(x)
  }
}

/** The [out, in] matrix (row-major) of one resized axis. */
export function interpolationMatrix(a: ResizeAxis): Float32Array {
  const { inLength: n, outLength: m } = a
  const A = new Float32Array(m * n)
  for (let o = 0; o < m; o++) {
    if (a.mode === 'nearest') {
      let i: number
      if (a.scale === 1) {
        i = o
      } else {
        i = nearestPixel(a.nearest, originalCoordinate(a.coordinate, o, a.scale, m, n), a.scale < 1)
        i = Math.min(Math.max(i, 0), n - 1)
      }
      A[o * n + i] += 1
    } else {
      let x = a.scale === 1 ? o : originalCoordinate(a.coordinate, o, a.scale, m, n)
      x = Math.max(0, Math.min(x, n - 1))
      const x1 = Math.min(Math.trunc(x), n - 1)
      const x2 = Math.min(x1 + 1, n - 1)
      let d1 = f(Math.abs(x - x1))
      let d2 = f(Math.abs(x - x2))
      if (x1 === x2) d1 = d2 = 0.5
      A[o * n + x1] += d2
      A[o * n + x2] += d1
    }
  }
  return A
}

function transposed(A: Float32Array, rows: number, cols: number): Float32Array {
  const T = new Float32Array(rows * cols)
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) T[c * rows + r] = A[r * cols + c]
  return T
}

const COORDINATE_MODES: CoordinateMode[] = ['half_pixel', 'pytorch_half_pixel', 'align_corners', 'asymmetric', 'tf_half_pixel_for_nn', 'half_pixel_symmetric']
const NEAREST_MODES: NearestMode[] = ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil']

/** Per-axis interpolation of a Resize (any opset) or Upsample node, with everything ORT would do spelled out. */
export function resizeAxes(node: IrNode, opset: number, constant: (v: string) => number[] | undefined, xShape: number[], yShape: number[]): ResizeAxis[] {
  const fail = (reason: string): never => {
    throw new UnsupportedGradientError(node, reason)
  }
  const rank = xShape.length
  const isResize = node.opType === 'Resize'
  const mode = attrString(node, 'mode', 'nearest')
  if (mode !== 'nearest' && mode !== 'linear') fail(`mode '${mode}'`)
  let coordinate: CoordinateMode = 'asymmetric'
  let nearest: NearestMode = 'simple'
  if (isResize && opset >= 11) {
    const c = attrString(node, 'coordinate_transformation_mode', 'half_pixel')
    if (!COORDINATE_MODES.includes(c as CoordinateMode)) fail(`coordinate_transformation_mode '${c}'`)
    coordinate = c as CoordinateMode
    if (mode === 'nearest') {
      const nm = attrString(node, 'nearest_mode', 'round_prefer_floor')
      if (!NEAREST_MODES.includes(nm as NearestMode)) fail(`nearest_mode '${nm}'`)
      nearest = nm as NearestMode
    }
  }
  if (attrInt(node, 'antialias', 0) !== 0) fail('antialias=1')
  if (attrString(node, 'keep_aspect_ratio_policy', 'stretch') !== 'stretch') fail(`keep_aspect_ratio_policy '${attrString(node, 'keep_aspect_ratio_policy', '')}'`)
  if (attrInt(node, 'exclude_outside', 0) !== 0) fail('exclude_outside=1')
  void attrFloat
  const axesAttr = attrInts(node, 'axes')
  const axes = (axesAttr ?? xShape.map((_, i) => i)).map((a) => (a < 0 ? a + rank : a))

  // Scales as ORT ends up using them: given ones, or out/in (float32) when sizes are given.
  let given: number[] | undefined
  let sizes: number[] | undefined
  if (!isResize) {
    given = opset < 9 ? (attrInts(node, 'scales') ?? fail('no scales')) : (constant(node.inputs[1]) ?? fail('scales that are not constant'))
  } else if (opset < 11) {
    given = constant(node.inputs[1]) ?? fail('scales that are not constant')
  } else {
    const scalesName = node.inputs[2] ?? ''
    const sizesName = node.inputs[3] ?? ''
    const s = scalesName ? constant(scalesName) : undefined
    if (s && s.length > 0) given = s
    else if (sizesName) sizes = constant(sizesName) ?? fail('sizes that are not constant')
    else fail('neither constant scales nor constant sizes')
  }
  const scales = xShape.map(() => 1)
  if (given) {
    if (given.length !== axes.length) fail(`${given.length} scales for ${axes.length} axes`)
    axes.forEach((a, i) => (scales[a] = f(given[i])))
  } else if (sizes) {
    if (sizes.length !== axes.length) fail(`${sizes.length} sizes for ${axes.length} axes`)
    axes.forEach((a) => (scales[a] = xShape[a] === 0 ? 1 : f(f(yShape[a]) / f(xShape[a]))))
  }
  return xShape.map((n, i) => ({ mode: mode as 'nearest' | 'linear', coordinate, nearest, scale: scales[i], inLength: n, outLength: yShape[i] }))
}

function constantNumbers(ctx: GradContext): (v: string) => number[] | undefined {
  return (v) => {
    const t = ctx.constant(v)
    return t ? tensorNumbers(t) : undefined
  }
}

/** dL/dx of Resize / Upsample: dL/dy multiplied by the transposed interpolation matrix of each resized axis. */
export const resizeGrad: GradRule = (ctx, gradOutputs, wanted) => {
  const node = ctx.node
  if (wanted.slice(1).some(Boolean)) throw new UnsupportedGradientError(node, 'roi, scales or sizes that depend on the differentiated input')
  const gy = gradOutputs[0]
  if (!wanted[0] || !gy) return node.inputs.map(() => undefined)
  const xShape = ctx.shape(node.inputs[0])
  const yShape = ctx.shape(node.outputs[0])
  const rank = xShape.length
  const axes = resizeAxes(node, ctx.opset, constantNumbers(ctx), xShape, yShape)
  const resized = axes.map((a, i) => (a.scale !== 1 || a.inLength !== a.outLength ? i : -1)).filter((i) => i >= 0)
  for (const i of resized) {
    if (i < rank - 2) throw new UnsupportedGradientError(node, `resizing axis ${i} (only the last two axes are supported)`)
  }
  const rest = node.inputs.slice(1).map(() => undefined)
  if (resized.length === 0) return [ctx.emit('Identity', [gy])[0], ...rest]
  const matrices = resized.map((i) => ({ axis: i, matrix: interpolationMatrix(axes[i]), outLength: axes[i].outLength, inLength: axes[i].inLength }))
  return [applyTransposedAxisMatrices(ctx, gy, rank, matrices), ...rest]
}

export interface AxisMatrix {
  axis: number
  /** [outLength, inLength], row-major: y along this axis = matrix * x along this axis. */
  matrix: Float32Array
  outLength: number
  inLength: number
}

/**
 * g contracted with the transpose of per-axis linear maps on the last two axes (a MatMul each), contracting first
 * along the axis that shrinks g most, since the cost is proportional to the size of the intermediate.
 */
export function applyTransposedAxisMatrices(ctx: GradContext, g: string, rank: number, maps: AxisMatrix[]): string {
  const last = maps.find((m) => m.axis === rank - 1)
  const second = maps.find((m) => m.axis === rank - 2)
  if (maps.some((m) => m !== last && m !== second)) throw new UnsupportedGradientError(ctx.node, 'a linear map on an axis other than the last two')
  const order = last && second && second.outLength * last.inLength > second.inLength * last.outLength ? [second, last] : [last, second]
  for (const m of order) {
    if (!m) continue
    if (m === last) {
      g = ctx.emit('MatMul', [g, ctx.float(m.matrix, [m.outLength, m.inLength])])[0]
    } else {
      g = ctx.emit('MatMul', [ctx.float(transposed(m.matrix, m.outLength, m.inLength), [m.inLength, m.outLength]), g])[0]
    }
  }
  return g
}
