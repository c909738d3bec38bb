import { writeGrayPng } from '../datasetFolder'
import { BIAS_TEXTURE_IDS } from '@common/textureMnist'
import { TEXTURE_SIZE, defaultTextures } from './textures'

/**
 * All 25 textures on one 5×5 sheet, row-major by id, to check by eye that they are distinct. Bias textures get
 * a white frame, the others a dark grey one.
 */
export async function writeTextureContactSheet(path: string, textures: Float32Array[] = defaultTextures()): Promise<void> {
  const columns = 5
  const pad = 6
  const cell = TEXTURE_SIZE + 2 * pad
  const rows = Math.ceil(textures.length / columns)
  const width = columns * cell
  const height = rows * cell
  const sheet = new Uint8Array(width * height).fill(40)
  textures.forEach((tex, id) => {
    const ox = (id % columns) * cell
    const oy = Math.floor(id / columns) * cell
    const frame = (BIAS_TEXTURE_IDS as readonly number[]).includes(id) ? 255 : 90
    for (let y = 2; y < cell - 2; y++) sheet.fill(frame, (oy + y) * width + ox + 2, (oy + y) * width + ox + cell - 2)
    for (let y = 0; y < TEXTURE_SIZE; y++) {
      for (let x = 0; x < TEXTURE_SIZE; x++) {
        sheet[(oy + pad + y) * width + ox + pad + x] = Math.round(tex[y * TEXTURE_SIZE + x] * 255)
      }
    }
  })
  await writeGrayPng(path, sheet, width, height)
}
