/**
 * Label planes as the viewer contract carries them: one byte per pixel. Class ids above 254 (the ignore label and
 * anything a byte cannot hold) become 255, which the renderer shows as "no class".
 */
export function labelsToBytes(labels: Uint16Array): Uint8Array {
  const bytes = new Uint8Array(labels.length)
  for (let i = 0; i < labels.length; i++) bytes[i] = labels[i] > 254 ? 255 : labels[i]
  return bytes
}

/** The bbox-cropped part of a full-image mask, as the segment picker needs it. */
export function cropMask(mask: Uint8Array, width: number, bbox: [number, number, number, number]): Uint8Array {
  const [x0, y0, w, h] = bbox
  const out = new Uint8Array(w * h)
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out[y * w + x] = mask[(y0 + y) * width + x0 + x] ? 1 : 0
  return out
}
