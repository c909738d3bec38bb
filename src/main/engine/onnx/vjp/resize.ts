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

export type CoordinateMode =
  | 'half_pixel'
  | 'pytorch_half_pixel'
  | 'align_corners'
  | 'asymmetric'
  | 'tf_half_pixel_for_nn'
  | 'half_pixel_symmetric'
  | 'tf_crop_and_resize'
/** 'simple' is Resize-10's and Upsample's rounding (ceil when shrinking, truncation when enlarging). */
export type NearestMode = 'round_prefer_floor' | 'round_prefer_ceil' | 'floor' | 'ceil' | 'simple'

export interface ResizeAxis {
  mode: 'nearest' | 'linear' | 'cubic'
  coordinate: CoordinateMode
  nearest: NearestMode
  /** The float32 scale ORT uses for this axis (given, or out/in when sizes were given). */
  scale: number
  inLength: number
  outLength: number
  /** tf_crop_and_resize's region of this axis, as fractions of the input. */
  roi?: [number, number]
  /** ORT copies the input when no dimension changes, whatever the scales and modes say. */
  copy?: boolean
  cubicCoeffA?: number
  excludeOutside?: boolean
}

const f = Math.fround

function originalCoordinate(mode: CoordinateMode, xr: number, scale: number, lenResized: number, lenOriginal: number, roi: [number, number] = [0, 1]): number {
  switch (mode) {
    case 'tf_crop_and_resize': {
      const [start, end] = roi.map(f)
      return lenResized > 1
        ? f(f(start * f(lenOriginal - 1)) + f(f(f(xr * f(end - start)) * f(lenOriginal - 1)) / f(lenResized - 1)))
        : f(0.5 * (start + end) * (lenOriginal - 1))
    }
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

/** Keys' cubic convolution weights of the 4 taps around a coordinate with fractional part t (ORT's GetCubicCoeffs). */
function cubicCoefficients(t: number, a: number): number[] {
  const s = Math.abs(t)
  return [
    f(((a * (s + 1) - 5 * a) * (s + 1) + 8 * a) * (s + 1) - 4 * a),
    f(((a + 2) * s - (a + 3)) * s * s + 1),
    f(((a + 2) * (1 - s) - (a + 3)) * (1 - s) * (1 - s) + 1),
    f(((a * (2 - s) - 5 * a) * (2 - s) + 8 * a) * (2 - s) - 4 * a)
  ]
}

/** The [out, in] matrix (row-major) of one resized axis. */
export function resizeAxisMatrix(a: ResizeAxis): Float32Array {
  const { inLength: n, outLength: m } = a
  const A = new Float32Array(m * n)
  const extrapolates = (x: number) => a.coordinate === 'tf_crop_and_resize' && (x < 0 || x > n - 1)
  for (let o = 0; o < m; o++) {
    if (a.copy) {
      A[o * n + o] = 1
    } else if (a.mode === 'nearest') {
      if (a.scale === 1) {
        A[o * n + o] = 1
        continue
      }
      const x = originalCoordinate(a.coordinate, o, a.scale, m, n, a.roi)
      // Extrapolated outputs hold a constant: a zero row.
      if (extrapolates(x)) continue
      const i = Math.min(Math.max(nearestPixel(a.nearest, x, a.scale < 1), 0), n - 1)
      A[o * n + i] += 1
    } else if (a.mode === 'linear') {
      let x = a.scale === 1 ? o : originalCoordinate(a.coordinate, o, a.scale, m, n, a.roi)
      if (extrapolates(x)) continue
      x = Math.max(0, Math.min(x, n - 1))
      const x1 = Math.min(Math.trunc(x), n - 1)
      const x2 = Math.min(x1 + 1, n - 1)
      let d1 = f(Math.abs(x - x1))
      let d2 = f(Math.abs(x - x2))
      if (x1 === x2) d1 = d2 = 0.5
      A[o * n + x1] += d2
      A[o * n + x2] += d1
    } else {
      // Cubic has no scale-1 shortcut in ORT; taps outside the input read the border pixel, or are dropped and the
      // rest renormalised with exclude_outside.
      const x = originalCoordinate(a.coordinate, o, a.scale, m, n, a.roi)
      if (extrapolates(x)) continue
      const base = Math.floor(x)
      const coeffs = cubicCoefficients(f(x - base), a.cubicCoeffA ?? -0.75)
      const taps = [base - 1, base, base + 1, base + 2]
      if (a.excludeOutside) taps.forEach((t, i) => (coeffs[i] = t < 0 || t >= n ? 0 : coeffs[i]))
      const sum = a.excludeOutside ? coeffs.reduce((p, q) => f(p + q), 0) : 1
      taps.forEach((t, i) => (A[o * n + Math.min(Math.max(t, 0), n - 1)] += f(coeffs[i] / sum)))
    }
  }
  return A
}

function transposed(A: Float32Array, rows: number, cols: number): Float32Array {
  const T = new Float32Array(rows * cols)
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) T[c * rows + r] = A[r * cols + c]
  return T
}

const COORDINATE_MODES: CoordinateMode[] = [
  'half_pixel',
  'pytorch_half_pixel',
  'align_corners',
  'asymmetric',
  'tf_half_pixel_for_nn',
  'half_pixel_symmetric',
  'tf_crop_and_resize'
]
const NEAREST_MODES: NearestMode[] = ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil']

/** Per-axis interpolation of a Resize (any opset) or Upsample node, with everything ORT would do spelled out. */
export function resizeAxes(node: IrNode, opset: number, constant: (v: string) => number[] | undefined, xShape: number[], yShape: number[]): ResizeAxis[] {
  const fail = (reason: string): never => {
    throw new UnsupportedGradientError(node, reason)
  }
  const rank = xShape.length
  const isResize = node.opType === 'Resize'
  const mode = attrString(node, 'mode', 'nearest')
  if (mode !== 'nearest' && mode !== 'linear' && mode !== 'cubic') fail(`mode '${mode}'`)
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
  let roi: number[] | undefined
  if (coordinate === 'tf_crop_and_resize') {
    const r = constant(node.inputs[1] ?? '') ?? fail('a roi that is not constant')
    if (r.length !== 2 * axes.length) fail(`roi of ${r.length} values for ${axes.length} axes`)
    roi = xShape.flatMap(() => [0, 1])
    axes.forEach((a, i) => {
      roi![2 * a] = r[i]
      roi![2 * a + 1] = r[axes.length + i]
    })
  }
  const copy = xShape.every((n, i) => n === yShape[i])
  return xShape.map((n, i) => ({
    mode: mode as ResizeAxis['mode'],
    coordinate,
    nearest,
    scale: scales[i],
    inLength: n,
    outLength: yShape[i],
    roi: roi ? [roi[2 * i], roi[2 * i + 1]] : undefined,
    copy,
    cubicCoeffA: attrFloat(node, 'cubic_coeff_a', -0.75),
    excludeOutside: attrInt(node, 'exclude_outside', 0) !== 0
  }))
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
  // On the image axes cubic and tf_crop_and_resize move values even at scale 1 (ORT interpolates only those two
  // axes in linear and cubic mode); only ORT's whole-tensor copy is surely the identity.
  const moves = (a: ResizeAxis, i: number) =>
    !a.copy && (a.scale !== 1 || a.inLength !== a.outLength || (i >= rank - 2 && (a.mode === 'cubic' || a.coordinate === 'tf_crop_and_resize')))
  const resized = axes.map((a, i) => (moves(a, i) ? i : -1)).filter((i) => i >= 0)
  for (const i of resized) {
    if (i < rank - 2) throw new UnsupportedGradientError(node, `resizing axis ${i} (only the last two axes are supported)`)
  }
  const rest = node.inputs.slice(1).map(() => undefined)
  if (resized.length === 0) return [ctx.emit('Identity', [gy])[0], ...rest]
  const matrices = resized.map((i) => ({ axis: i, matrix: resizeAxisMatrix(axes[i]), outLength: axes[i].outLength, inLength: axes[i].inLength }))
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
 * g contracted with the transpose of per-axis linear maps on the last two axes (a MatMul each), in the order with
 * fewer multiply-adds: for the last axis first, out2*out1*in1 + in2*out2*in1; for the other first, in2*out2*out1 +
 * in2*out1*in1 (2 = second-to-last axis, 1 = last).
 */
export function applyTransposedAxisMatrices(ctx: GradContext, g: string, rank: number, maps: AxisMatrix[]): string {
  const last = maps.find((m) => m.axis === rank - 1)
  const second = maps.find((m) => m.axis === rank - 2)
  if (maps.some((m) => m !== last && m !== second)) throw new UnsupportedGradientError(ctx.node, 'a linear map on an axis other than the last two')
  let order = [last, second]
  if (last && second) {
    const lastFirst = second.outLength * last.outLength * last.inLength + second.inLength * second.outLength * last.inLength
    const secondFirst = second.inLength * second.outLength * last.outLength + second.inLength * last.outLength * last.inLength
    if (secondFirst < lastFirst) order = [second, last]
  }
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
