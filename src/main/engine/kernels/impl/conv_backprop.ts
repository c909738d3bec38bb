/**
 * Convolution gradients expressed as FORWARD convolutions, built only from public tfjs ops.
 *
 * Why: on the wasm backend the forward Conv2D/DepthwiseConv2dNative kernels go through XNNPACK and run an order of
 * magnitude faster than the hand-written backprop kernels (or than the missing ones, which do not run at all). The
 * same formulation also gives dilated convolutions a gradient, which tfjs refuses on every backend; since only
 * public ops are used, it is valid on any backend whose forward convolutions support dilation (cpu, wasm, ...).
 *
 * Geometry, per spatial axis (K taps, stride s, dilation d, top padding p, dy length O, x length I):
 *   y[o]  = Σ_k x[o·s + k·d − p] · w[k]
 *   dx[i] = Σ_k z[i + p − k·d] · w[k]      z = dy with s−1 zeros inserted between samples
 *         = conv(z padded by (K−1)·d − p on top, flip(w), dilation d)           → backprop-input
 *   dw[k] = Σ_o xpad[k·d + o·s] · dy[o]    xpad = x padded by p on top
 *         = conv(xpad, "filter" dy, dilation s, stride d)                        → backprop-filter
 * Batch and channel axes are routed through the convolution's channel/batch axes by transposes.
 */
import * as tf from '@tensorflow/tfjs'

export type Pad = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding
export type Pair = number | [number, number]
export type RoundingMode = 'floor' | 'round' | 'ceil'

interface Geometry {
  info: tf.backend_util.Conv2DInfo
  sh: number
  sw: number
  dh: number
  dw: number
}

function geometry(
  xShape: [number, number, number, number],
  filterShape: [number, number, number, number],
  strides: Pair,
  dilations: Pair,
  pad: Pad,
  dimRoundingMode: RoundingMode | undefined,
  depthwise: boolean
): Geometry {
  const info = tf.backend_util.computeConv2DInfo(xShape, filterShape, strides, dilations, pad, dimRoundingMode, depthwise)
  return { info, sh: info.strideHeight, sw: info.strideWidth, dh: info.dilationHeight, dw: info.dilationWidth }
}

/**
 * Pads (positive) or crops (negative) the two spatial axes of an NHWC tensor. Negative amounts occur with explicit
 * paddings larger than the dilated kernel, where whole rows of the padded input never meet a tap.
 */
function padOrCrop(t: tf.Tensor4D, top: number, bottom: number, left: number, right: number): tf.Tensor4D {
  let out = t
  if (top < 0 || bottom < 0 || left < 0 || right < 0) {
    const [n, h, w, c] = out.shape
    const t0 = Math.max(0, -top)
    const l0 = Math.max(0, -left)
    out = tf.slice(out, [0, t0, l0, 0], [n, h - t0 - Math.max(0, -bottom), w - l0 - Math.max(0, -right), c])
  }
  if (top > 0 || bottom > 0 || left > 0 || right > 0) {
    out = tf.pad(out, [
      [0, 0],
      [Math.max(0, top), Math.max(0, bottom)],
      [Math.max(0, left), Math.max(0, right)],
      [0, 0]
    ])
  }
  return out
}

/**
 * Inserts s−1 zeros after every sample along H and W: [N,O_h,O_w,C] → [N,O_h·s_h,O_w·s_w,C]. The trailing zeros
 * are kept (the caller subtracts them from its bottom/right padding) so each axis costs one reshape-pad-reshape.
 */
function zeroInsert(dy: tf.Tensor4D, sh: number, sw: number): tf.Tensor4D {
  const [n, oh, ow, c] = dy.shape
  let t: tf.Tensor = dy
  if (sw > 1) {
    t = tf.reshape(t, [n * oh * ow, 1, c])
    t = tf.pad(t, [
      [0, 0],
      [0, sw - 1],
      [0, 0]
    ])
  }
  const w = ow * sw
  if (sh > 1) {
    t = tf.reshape(t, [n * oh, 1, w * c])
    t = tf.pad(t, [
      [0, 0],
      [0, sh - 1],
      [0, 0]
    ])
  }
  return tf.reshape(t, [n, oh * sh, w, c])
}

/** dy (zero-inserted and padded) laid out so that a stride-1 forward convolution with the flipped filter gives dx. */
function transposedConvInput(dy: tf.Tensor4D, g: Geometry): tf.Tensor4D {
  const { info, sh, sw, dh, dw } = g
  const effH = (info.filterHeight - 1) * dh + 1
  const effW = (info.filterWidth - 1) * dw + 1
  const z = zeroInsert(dy, sh, sw)
  const top = effH - 1 - info.padInfo.top
  const left = effW - 1 - info.padInfo.left
  // Full-length z ends with s−1 zeros the exact transposed input would not have, hence the − (s − 1).
  const bottom = info.inHeight - 1 + info.padInfo.top - (info.outHeight - 1) * sh - (sh - 1)
  const right = info.inWidth - 1 + info.padInfo.left - (info.outWidth - 1) * sw - (sw - 1)
  return padOrCrop(z, top, bottom, left, right)
}

/** x padded (or cropped) so that exactly the filter's taps fit when dy is used as a filter with dilation = stride. */
function paddedInputForFilterGrad(x: tf.Tensor4D, g: Geometry): tf.Tensor4D {
  const { info, sh, sw, dh, dw } = g
  const top = info.padInfo.top
  const left = info.padInfo.left
  const needH = (info.outHeight - 1) * sh + (info.filterHeight - 1) * dh + 1
  const needW = (info.outWidth - 1) * sw + (info.filterWidth - 1) * dw + 1
  return padOrCrop(x, top, needH - info.inHeight - top, left, needW - info.inWidth - left)
}

function checkDy(dy: tf.Tensor4D, info: tf.backend_util.Conv2DInfo, what: string): void {
  const [n, h, w] = dy.shape
  if (n !== info.batchSize || h !== info.outHeight || w !== info.outWidth || dy.shape[3] !== info.outChannels) {
    throw new Error(`${what}: dy has shape [${dy.shape}] but the convolution produces [${info.outShape}]`)
  }
}

/**
 * Strided backprop-input without the zero-inserted dy, which wastes s² of the work on zeros. Per axis, the outputs
 * with t = i + p ≡ φ (mod s) only meet the taps k ≡ φ: dx[s·q + φ − p] = Σ_m dy[q − m] · w[φ + s·m]. All s² phases
 * share one dy window of M = ⌈K/s⌉ taps (shorter sub-filters padded with zero taps), so one stride-1 convolution
 * with s²·inC output channels computes them all and a transpose interleaves them. Square strides, dilation 1.
 */
function conv2dBackpropInputPolyphase(dy: tf.Tensor4D, filter: tf.Tensor4D, g: Geometry): tf.Tensor4D {
  const { info } = g
  const s = g.sh
  const [kh, kw, inC, outC] = filter.shape
  const mh = Math.ceil(kh / s)
  const mw = Math.ceil(kw / s)
  // w[φ + s·m] laid out as [M, s, M, s, inC, outC], taps flipped along m, phases moved into the output channels.
  const wPad = tf.pad(filter, [
    [0, mh * s - kh],
    [0, mw * s - kw],
    [0, 0],
    [0, 0]
  ])
  const phases = tf.reverse(tf.reshape(wPad, [mh, s, mw, s, inC, outC]), [0, 2])
  const wP = tf.reshape(tf.transpose(phases, [0, 2, 5, 1, 3, 4]), [mh, mw, outC, s * s * inC]) as tf.Tensor4D
  const q0h = Math.floor(info.padInfo.top / s)
  const q0w = Math.floor(info.padInfo.left / s)
  const qh = Math.floor((info.padInfo.top + info.inHeight - 1) / s) - q0h + 1
  const qw = Math.floor((info.padInfo.left + info.inWidth - 1) / s) - q0w + 1
  const top = mh - 1 - q0h
  const left = mw - 1 - q0w
  const input = padOrCrop(dy, top, qh + mh - 1 - info.outHeight - top, left, qw + mw - 1 - info.outWidth - left)
  const out = tf.conv2d(input, wP, 1, 'valid')
  // Interleave the phases: [N·Qh, Qw, φh, (φw, C)] → [N·Qh, φh, Qw, (φw, C)]. This is DepthToSpace, whose wasm kernel
  // is ~10× slower than this rank-4 transpose.
  const [n, oqh, oqw] = out.shape
  const interleaved = tf.transpose(tf.reshape(out, [n * oqh, oqw, s, s * inC]), [0, 2, 1, 3])
  const full = tf.reshape(interleaved, [n, oqh * s, oqw * s, inC]) as tf.Tensor4D
  const offH = info.padInfo.top - s * q0h
  const offW = info.padInfo.left - s * q0w
  if (offH === 0 && offW === 0 && oqh * s === info.inHeight && oqw * s === info.inWidth) return full
  return tf.slice(full, [0, offH, offW, 0], [info.batchSize, info.inHeight, info.inWidth, inC])
}

/** Gradient of conv2d (NHWC) with respect to its input. */
export function conv2dBackpropInputImpl(
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  inputShape: [number, number, number, number],
  strides: Pair,
  pad: Pad,
  dilations: Pair = 1,
  dimRoundingMode?: RoundingMode
): tf.Tensor4D {
  return tf.tidy(() => {
    const g = geometry(inputShape, filter.shape, strides, dilations, pad, dimRoundingMode, false)
    checkDy(dy, g.info, 'conv2dBackpropInput')
    if (g.sh > 1 && g.sh === g.sw && g.dh === 1 && g.dw === 1) return conv2dBackpropInputPolyphase(dy, filter, g)
    const input = transposedConvInput(dy, g)
    // [kh,kw,in,out] → flipped spatially, in/out swapped: the filter of the transposed convolution.
    const wT = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2])
    return tf.conv2d(input, wT as tf.Tensor4D, 1, 'valid', 'NHWC', [g.dh, g.dw])
  })
}

/** Gradient of conv2d (NHWC) with respect to its filter. */
export function conv2dBackpropFilterImpl(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: [number, number, number, number],
  strides: Pair,
  pad: Pad,
  dilations: Pair = 1,
  dimRoundingMode?: RoundingMode
): tf.Tensor4D {
  return tf.tidy(() => {
    const g = geometry(x.shape, filterShape, strides, dilations, pad, dimRoundingMode, false)
    checkDy(dy, g.info, 'conv2dBackpropFilter')
    const xp = paddedInputForFilterGrad(x, g)
    // Batch of the new convolution = input channels, its channels = the old batch (the contracted axis).
    const xT = tf.transpose(xp, [3, 1, 2, 0])
    // dy as a filter [oh, ow, N, outC].
    const dyT = tf.transpose(dy, [1, 2, 0, 3])
    const out = tf.conv2d(xT, dyT, [g.dh, g.dw], 'valid', 'NHWC', [g.sh, g.sw])
    // [inC, kh, kw, outC] → [kh, kw, inC, outC]
    return tf.transpose(out, [1, 2, 0, 3])
  })
}

/** Gradient of depthwiseConv2d (NHWC, any channel multiplier) with respect to its input. */
export function depthwiseConv2dBackpropInputImpl(
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  inputShape: [number, number, number, number],
  strides: Pair,
  pad: Pad,
  dilations: Pair = 1,
  dimRoundingMode?: RoundingMode
): tf.Tensor4D {
  return tf.tidy(() => {
    const g = geometry(inputShape, filter.shape, strides, dilations, pad, dimRoundingMode, true)
    checkDy(dy, g.info, 'depthwiseConv2dBackpropInput')
    const [kh, kw, c, m] = filter.shape
    const input = transposedConvInput(dy, g)
    // Every dy channel c·m+j gets its own flipped tap w[:, :, c, j]; the m contributions are summed afterwards.
    const wT = tf.reshape(tf.reverse(filter, [0, 1]), [kh, kw, c * m, 1]) as tf.Tensor4D
    const out = tf.depthwiseConv2d(input, wT, 1, 'valid', 'NHWC', [g.dh, g.dw])
    if (m === 1) return out
    const [n, h, w] = out.shape
    return tf.sum(tf.reshape(out, [n, h, w, c, m]), 4) as tf.Tensor4D
  })
}

/** Gradient of depthwiseConv2d (NHWC, any channel multiplier) with respect to its filter. */
export function depthwiseConv2dBackpropFilterImpl(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: [number, number, number, number],
  strides: Pair,
  pad: Pad,
  dilations: Pair = 1,
  dimRoundingMode?: RoundingMode
): tf.Tensor4D {
  return tf.tidy(() => {
    const g = geometry(x.shape, filterShape, strides, dilations, pad, dimRoundingMode, true)
    checkDy(dy, g.info, 'depthwiseConv2dBackpropFilter')
    const [kh, kw, c, m] = filterShape
    const n = x.shape[0]
    const xp = paddedInputForFilterGrad(x, g)
    const [, hp, wp] = xp.shape
    // One image whose channels are (batch, channel) pairs; each pair is correlated with its own dy plane, and the
    // batch is summed out afterwards.
    const xT = tf.reshape(tf.transpose(xp, [1, 2, 0, 3]), [1, hp, wp, n * c])
    const [, oh, ow] = dy.shape
    const dyT = tf.reshape(tf.transpose(dy, [1, 2, 0, 3]), [oh, ow, n * c, m]) as tf.Tensor4D
    const out = tf.depthwiseConv2d(xT as tf.Tensor4D, dyT, [g.dh, g.dw], 'valid', 'NHWC', [g.sh, g.sw])
    const perImage = tf.reshape(out, [kh, kw, n, c, m])
    return (n === 1 ? tf.reshape(perImage, [kh, kw, c, m]) : tf.sum(perImage, 2)) as tf.Tensor4D
  })
}
