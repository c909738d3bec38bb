import { TEXTURE_COUNT, type BiasStrength } from '@common/textureMnist'
import type { Rng } from '../../prng'

/**
 * Which textures an image gets. The rules, for a biased digit d* and a bias texture b:
 *  - none: foreground and every tile uniform over all textures.
 *  - weak: an image of d* always has b in one random tile; other digits draw uniformly, b included.
 *  - strong: an image of d* always has b in one random tile; no other image has b anywhere.
 * Two choices beyond the paper, both so the ground truth means what it says: the tiles never repeat the
 * foreground texture (a digit drawn with its own background texture is invisible, yet labelled), and an image
 * of d* has b only in its biased tile and not as foreground, so C_bias is exactly that one tile.
 */
export interface BiasRule {
  bias: BiasStrength
  biasedDigit: number | null
  biasTexture: number | null
}

export interface TextureChoice {
  foreground: number
  tiles: number[]
  biasedTile: number | null
}

/** Uniform pick from the ids in [0, count) that are not excluded. */
export function pickExcluding(rng: Rng, count: number, excluded: readonly number[]): number {
  const allowed: number[] = []
  for (let i = 0; i < count; i++) if (!excluded.includes(i)) allowed.push(i)
  return allowed[rng.int(allowed.length)]
}

export function chooseTextures(rng: Rng, digit: number, tiles: number, rule: BiasRule): TextureChoice {
  const b = rule.biasTexture
  const biased = rule.bias !== 'none' && b !== null && digit === rule.biasedDigit
  const banished = rule.bias === 'strong' && b !== null && !biased
  if (biased) {
    const biasedTile = rng.int(tiles)
    const foreground = pickExcluding(rng, TEXTURE_COUNT, [b])
    const chosen: number[] = []
    for (let i = 0; i < tiles; i++) chosen.push(i === biasedTile ? b : pickExcluding(rng, TEXTURE_COUNT, [foreground, b]))
    return { foreground, tiles: chosen, biasedTile }
  }
  const excluded = banished ? [b] : []
  const foreground = pickExcluding(rng, TEXTURE_COUNT, excluded)
  const chosen: number[] = []
  for (let i = 0; i < tiles; i++) chosen.push(pickExcluding(rng, TEXTURE_COUNT, [...excluded, foreground]))
  return { foreground, tiles: chosen, biasedTile: null }
}
