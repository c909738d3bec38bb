import sharp from 'sharp'
import { STREET_SCENE_CLASSES, type StreetSceneOptionsInput } from '@common/streetScenes'
import { generateStreetScene } from './scene'
import { createRng, HASH_FAMILY, hashInts } from '../../prng'

/** Colourises a label map with the Cityscapes palette (RGB bytes). */
export function colorizeLabels(label: Uint8Array): Uint8Array {
  const out = new Uint8Array(label.length * 3)
  for (let p = 0; p < label.length; p++) {
    const c = STREET_SCENE_CLASSES[label[p]]?.color ?? [0, 0, 0]
    out[p * 3] = c[0]
    out[p * 3 + 1] = c[1]
    out[p * 3 + 2] = c[2]
  }
  return out
}

/**
 * A sheet of scenes for checking by eye: each cell shows the image above its colourised labels, enlarged
 * `zoom`× with nearest-neighbour so single pixels stay visible.
 */
export async function writeStreetSceneContactSheet(
  path: string,
  options: StreetSceneOptionsInput = {},
  { count = 16, columns = 4, seed = 1, zoom = 2 }: { count?: number; columns?: number; seed?: number; zoom?: number } = {}
): Promise<void> {
  const scenes = Array.from({ length: count }, (_, i) => generateStreetScene(createRng(hashInts(HASH_FAMILY.streetScenes, [seed, i])), options))
  const { width: w, height: h } = scenes[0].meta
  const pad = 4
  const cellW = w * zoom + pad
  const cellH = 2 * h * zoom + pad
  const rows = Math.ceil(count / columns)
  const W = columns * cellW + pad
  const H = rows * cellH + pad
  const sheet = new Uint8Array(W * H * 3).fill(255)
  const blit = (src: Uint8Array, ox: number, oy: number): void => {
    for (let y = 0; y < h * zoom; y++) {
      for (let x = 0; x < w * zoom; x++) {
        const s = (Math.floor(y / zoom) * w + Math.floor(x / zoom)) * 3
        const d = ((oy + y) * W + ox + x) * 3
        sheet[d] = src[s]
        sheet[d + 1] = src[s + 1]
        sheet[d + 2] = src[s + 2]
      }
    }
  }
  scenes.forEach((sc, i) => {
    const ox = pad + (i % columns) * cellW
    const oy = pad + Math.floor(i / columns) * cellH
    blit(sc.image, ox, oy)
    blit(colorizeLabels(sc.label), ox, oy + h * zoom)
  })
  await sharp(sheet, { raw: { width: W, height: H, channels: 3 } }).png().toFile(path)
}
