/**
 * Test helper: how far apart two periodic textures are however one is shifted against the other, as the
 * minimum over all cyclic shifts of the RMS difference. ‖a − shift(b)‖² = ‖a‖² + ‖b‖² − 2·xcorr(a, b)[shift],
 * and the cross-correlation for every shift at once comes from FFTs.
 */
function fft(re: Float64Array, im: Float64Array, inverse: boolean): void {
  const n = re.length
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1
    for (; j & bit; bit >>= 1) j ^= bit
    j ^= bit
    if (i < j) {
      ;[re[i], re[j]] = [re[j], re[i]]
      ;[im[i], im[j]] = [im[j], im[i]]
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const ang = ((inverse ? 2 : -2) * Math.PI) / len
    for (let i = 0; i < n; i += len) {
      for (let k = 0; k < len / 2; k++) {
        const wr = Math.cos(ang * k)
        const wi = Math.sin(ang * k)
        const ar = re[i + k + len / 2] * wr - im[i + k + len / 2] * wi
        const ai = re[i + k + len / 2] * wi + im[i + k + len / 2] * wr
        re[i + k + len / 2] = re[i + k] - ar
        im[i + k + len / 2] = im[i + k] - ai
        re[i + k] += ar
        im[i + k] += ai
      }
    }
  }
  if (inverse) for (let i = 0; i < n; i++) (re[i] /= n), (im[i] /= n)
}

function fft2(re: Float64Array, im: Float64Array, size: number, inverse: boolean): void {
  const r = new Float64Array(size)
  const i = new Float64Array(size)
  for (let y = 0; y < size; y++) {
    r.set(re.subarray(y * size, (y + 1) * size))
    i.set(im.subarray(y * size, (y + 1) * size))
    fft(r, i, inverse)
    re.set(r, y * size)
    im.set(i, y * size)
  }
  for (let x = 0; x < size; x++) {
    for (let y = 0; y < size; y++) (r[y] = re[y * size + x]), (i[y] = im[y * size + x])
    fft(r, i, inverse)
    for (let y = 0; y < size; y++) (re[y * size + x] = r[y]), (im[y * size + x] = i[y])
  }
}

export function spectrum(a: Float32Array, size: number): { re: Float64Array; im: Float64Array; energy: number } {
  const re = Float64Array.from(a)
  const im = new Float64Array(a.length)
  let energy = 0
  for (const v of a) energy += v * v
  fft2(re, im, size, false)
  return { re, im, energy }
}

export function minShiftRms(
  a: { re: Float64Array; im: Float64Array; energy: number },
  b: { re: Float64Array; im: Float64Array; energy: number },
  size: number
): number {
  const re = new Float64Array(a.re.length)
  const im = new Float64Array(a.re.length)
  for (let k = 0; k < re.length; k++) {
    // A · conj(B)
    re[k] = a.re[k] * b.re[k] + a.im[k] * b.im[k]
    im[k] = a.im[k] * b.re[k] - a.re[k] * b.im[k]
  }
  fft2(re, im, size, true)
  let best = -Infinity
  for (const v of re) if (v > best) best = v
  return Math.sqrt(Math.max(0, a.energy + b.energy - 2 * best) / (size * size))
}
