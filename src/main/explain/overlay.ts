/**
 * The paper's figure style: saliency in red over the image, the request outlined in blue. Works on RGB uint8
 * at image resolution; the saliency must already be upsampled to it.
 */
export interface OverlayInput {
  width: number
  height: number
  /** RGB, row-major, 3 bytes per pixel (grayscale images are expanded by the caller). */
  image: Uint8Array
  /** Saliency in [0, 1] per pixel. */
  saliency: Float32Array
  /** Binary request mask R per pixel. */
  request: Uint8Array
  /** Opacity of full saliency. */
  alpha?: number
  /** Width of the request's outline in pixels, drawn inside the request (a small thumbnail needs more than 1). */
  outline?: number
}

const RED = [230, 20, 20]
const BLUE = [30, 90, 255]

export function renderOverlay({ width, height, image, saliency, request, alpha = 0.7, outline = 1 }: OverlayInput): Uint8Array {
  const n = width * height
  if (image.length !== n * 3) throw new Error(`image has ${image.length} bytes, expected ${n * 3} for ${width}×${height} RGB`)
  if (saliency.length !== n || request.length !== n) throw new Error('saliency and request must match the image size')
  const out = new Uint8Array(n * 3)
  for (let i = 0; i < n; i++) {
    const s = Math.min(1, Math.max(0, saliency[i])) * alpha
    for (let c = 0; c < 3; c++) out[i * 3 + c] = Math.round(image[i * 3 + c] * (1 - s) + RED[c] * s)
  }
  // A request pixel with a pixel outside the request (or the border) within `outline` steps left, right, up or
  // down is on its outline.
  const outside = (x: number, y: number): boolean => x < 0 || y < 0 || x >= width || y >= height || !request[y * width + x]
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x
      if (!request[i]) continue
      let edge = false
      for (let d = 1; d <= outline && !edge; d++) edge = outside(x - d, y) || outside(x + d, y) || outside(x, y - d) || outside(x, y + d)
      if (edge) for (let c = 0; c < 3; c++) out[i * 3 + c] = BLUE[c]
    }
  }
  return out
}
