/**
 * Digit masks as the authors' generator makes them: the 28×28 MNIST digit binarised (grey ≥ 128, i.e. rounding
 * grey/255), resized bilinearly to the output size with pixel centres aligned (skimage's order-1 resize, zeros
 * outside the image), then thresholded at 0.5.
 */
export function digitMask(
  images: Uint8Array,
  index: number,
  rows: number,
  cols: number,
  size: number,
  out: Uint8Array = new Uint8Array(size * size)
): Uint8Array {
  const base = index * rows * cols
  const at = (r: number, c: number): number =>
    r < 0 || r >= rows || c < 0 || c >= cols ? 0 : images[base + r * cols + c] >= 128 ? 1 : 0
  const sy = rows / size
  const sx = cols / size
  for (let y = 0; y < size; y++) {
    const fy = (y + 0.5) * sy - 0.5
    const y0 = Math.floor(fy)
    const wy = fy - y0
    for (let x = 0; x < size; x++) {
      const fx = (x + 0.5) * sx - 0.5
      const x0 = Math.floor(fx)
      const wx = fx - x0
      const v =
        (1 - wy) * ((1 - wx) * at(y0, x0) + wx * at(y0, x0 + 1)) + wy * ((1 - wx) * at(y0 + 1, x0) + wx * at(y0 + 1, x0 + 1))
      out[y * size + x] = v >= 0.5 ? 1 : 0
    }
  }
  return out
}
