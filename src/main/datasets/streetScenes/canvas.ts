import { STREET_CLASS, STREET_SCENE_CLASS_COUNT } from '@common/streetScenes'
import { hash01 } from '../../prng'
import { fbm } from './noise'

/**
 * A supersampled raster: colours, class ids and instance ids at SS× the output size. Shapes are drawn in output
 * pixel coordinates (floats); the image is box-filtered down, which gives soft object edges, while each label
 * pixel takes the majority class of its samples.
 */
export const SS = 2

/**
 * Ties between classes go to the thinner, rarer one: a 1-pixel bicycle tube or pole then survives downsampling
 * instead of vanishing into the road behind it.
 */
const TIE_PRIORITY: number[] = (() => {
  const order = [
    STREET_CLASS.bicycle,
    STREET_CLASS.pole,
    STREET_CLASS.rider,
    STREET_CLASS.person,
    STREET_CLASS.car,
    STREET_CLASS.vegetation,
    STREET_CLASS.building,
    STREET_CLASS.sidewalk,
    STREET_CLASS.road,
    STREET_CLASS.sky
  ]
  const p = new Array<number>(STREET_SCENE_CLASS_COUNT).fill(0)
  order.forEach((cls, i) => (p[cls] = order.length - i))
  return p
})()

export interface Material {
  r: number
  g: number
  b: number
  /** Per-sample grain amplitude (0–1 scale). */
  grain?: number
  /** Relative brightness variation from smooth blotches, e.g. 0.2 = ±10 %. */
  blotch?: number
  /** Size of the blotches in output pixels. */
  blotchScale?: number
  /** Extra brightness factor at a point (lighting, texture stripes). */
  shade?: (x: number, y: number) => number
}

export type Box = [number, number, number, number]

export class Canvas {
  readonly width: number
  readonly height: number
  readonly sw: number
  readonly sh: number
  readonly rgb: Float32Array
  readonly label: Uint8Array
  readonly inst: Uint8Array
  private readonly seed: number

  constructor(width: number, height: number, seed: number) {
    this.width = width
    this.height = height
    this.sw = width * SS
    this.sh = height * SS
    this.rgb = new Float32Array(this.sw * this.sh * 3)
    this.label = new Uint8Array(this.sw * this.sh)
    this.inst = new Uint8Array(this.sw * this.sh)
    this.seed = seed >>> 0
  }

  /** Writes one sample; (x, y) are output coordinates of its centre, used for texture lookups. */
  put(i: number, x: number, y: number, m: Material, cls: number, inst: number): void {
    let f = 1
    if (m.blotch) f += m.blotch * (fbm(this.seed ^ 0x3c6ef372, x / (m.blotchScale ?? 3), y / (m.blotchScale ?? 3)) - 0.5)
    if (m.shade) f *= m.shade(x, y)
    const n = m.grain ? m.grain * (hash01(this.seed, i, 17) - 0.5) : 0
    const o = i * 3
    this.rgb[o] = m.r * f + n
    this.rgb[o + 1] = m.g * f + n
    this.rgb[o + 2] = m.b * f + n
    this.label[i] = cls
    this.inst[i] = inst
  }

  /** Paints every sample inside `box` (output coordinates) for which `inside` holds. */
  fill(box: Box, inside: (x: number, y: number) => boolean, m: Material, cls: number, inst = 0): void {
    const xs0 = Math.max(0, Math.floor(box[0] * SS))
    const ys0 = Math.max(0, Math.floor(box[1] * SS))
    const xs1 = Math.min(this.sw - 1, Math.ceil(box[2] * SS))
    const ys1 = Math.min(this.sh - 1, Math.ceil(box[3] * SS))
    for (let ys = ys0; ys <= ys1; ys++) {
      const y = (ys + 0.5) / SS
      for (let xs = xs0; xs <= xs1; xs++) {
        const x = (xs + 0.5) / SS
        if (inside(x, y)) this.put(ys * this.sw + xs, x, y, m, cls, inst)
      }
    }
  }

  rect(x0: number, y0: number, x1: number, y1: number, m: Material, cls: number, inst = 0): void {
    this.fill([x0, y0, x1, y1], (x, y) => x >= x0 && x < x1 && y >= y0 && y < y1, m, cls, inst)
  }

  ellipse(cx: number, cy: number, rx: number, ry: number, m: Material, cls: number, inst = 0): void {
    this.fill(
      [cx - rx, cy - ry, cx + rx, cy + ry],
      (x, y) => ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1,
      m,
      cls,
      inst
    )
  }

  /** An annulus, e.g. a tyre. */
  ring(cx: number, cy: number, r: number, thickness: number, m: Material, cls: number, inst = 0): void {
    const ri = Math.max(0, r - thickness)
    this.fill(
      [cx - r, cy - r, cx + r, cy + r],
      (x, y) => {
        const d = (x - cx) ** 2 + (y - cy) ** 2
        return d <= r * r && d >= ri * ri
      },
      m,
      cls,
      inst
    )
  }

  /** An elliptical ring: a tyre seen at an angle. */
  ellipseRing(cx: number, cy: number, rx: number, ry: number, thickness: number, m: Material, cls: number, inst = 0): void {
    const ix = Math.max(0.01, rx - thickness)
    const iy = Math.max(0.01, ry - thickness)
    this.fill(
      [cx - rx, cy - ry, cx + rx, cy + ry],
      (x, y) => ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1 && ((x - cx) / ix) ** 2 + ((y - cy) / iy) ** 2 >= 1,
      m,
      cls,
      inst
    )
  }

  /** Multiplies colours inside an ellipse, keeping labels: cast shadows belong to the ground they fall on. */
  shadow(cx: number, cy: number, rx: number, ry: number, factor: number): void {
    const xs0 = Math.max(0, Math.floor((cx - rx) * SS))
    const ys0 = Math.max(0, Math.floor((cy - ry) * SS))
    const xs1 = Math.min(this.sw - 1, Math.ceil((cx + rx) * SS))
    const ys1 = Math.min(this.sh - 1, Math.ceil((cy + ry) * SS))
    for (let ys = ys0; ys <= ys1; ys++) {
      for (let xs = xs0; xs <= xs1; xs++) {
        const d = (((xs + 0.5) / SS - cx) / rx) ** 2 + (((ys + 0.5) / SS - cy) / ry) ** 2
        if (d > 1) continue
        const f = factor + (1 - factor) * d
        const o = (ys * this.sw + xs) * 3
        this.rgb[o] *= f
        this.rgb[o + 1] *= f
        this.rgb[o + 2] *= f
      }
    }
  }

  /** A thick segment with round ends (limbs, tubes, poles); `width` is the full thickness. */
  line(x0: number, y0: number, x1: number, y1: number, width: number, m: Material, cls: number, inst = 0): void {
    const r = width / 2
    const dx = x1 - x0
    const dy = y1 - y0
    const len2 = dx * dx + dy * dy || 1e-9
    this.fill(
      [Math.min(x0, x1) - r, Math.min(y0, y1) - r, Math.max(x0, x1) + r, Math.max(y0, y1) + r],
      (x, y) => {
        const t = Math.max(0, Math.min(1, ((x - x0) * dx + (y - y0) * dy) / len2))
        const ex = x - (x0 + t * dx)
        const ey = y - (y0 + t * dy)
        return ex * ex + ey * ey <= r * r
      },
      m,
      cls,
      inst
    )
  }

  /** A convex polygon given clockwise or counter-clockwise. */
  polygon(pts: readonly (readonly [number, number])[], m: Material, cls: number, inst = 0): void {
    let x0 = Infinity
    let y0 = Infinity
    let x1 = -Infinity
    let y1 = -Infinity
    for (const [px, py] of pts) {
      x0 = Math.min(x0, px)
      y0 = Math.min(y0, py)
      x1 = Math.max(x1, px)
      y1 = Math.max(y1, py)
    }
    const n = pts.length
    this.fill(
      [x0, y0, x1, y1],
      (x, y) => {
        let sign = 0
        for (let k = 0; k < n; k++) {
          const a = pts[k]
          const b = pts[k + 1 === n ? 0 : k + 1]
          const ax = a[0]
          const ay = a[1]
          const bx = b[0]
          const by = b[1]
          const c = (bx - ax) * (y - ay) - (by - ay) * (x - ax)
          if (c === 0) continue
          const s = c > 0 ? 1 : -1
          if (sign === 0) sign = s
          else if (s !== sign) return false
        }
        return true
      },
      m,
      cls,
      inst
    )
  }

  /**
   * Box-filters colours into `image` (RGB bytes, after `post` maps linear colour to display values) and takes the
   * majority label (ties to TIE_PRIORITY) and that label's instance per output pixel.
   */
  resolve(post: (r: number, g: number, b: number, x: number, y: number, out: Float32Array) => void): {
    image: Uint8Array
    label: Uint8Array
    instances: Uint8Array
  } {
    const { width, height, sw } = this
    const image = new Uint8Array(width * height * 3)
    const label = new Uint8Array(width * height)
    const instances = new Uint8Array(width * height)
    const votes = new Int32Array(STREET_SCENE_CLASS_COUNT)
    const out = new Float32Array(3)
    const inv = 1 / (SS * SS)
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        let r = 0
        let g = 0
        let b = 0
        votes.fill(0)
        for (let dy = 0; dy < SS; dy++) {
          for (let dx = 0; dx < SS; dx++) {
            const i = (y * SS + dy) * sw + x * SS + dx
            r += this.rgb[i * 3]
            g += this.rgb[i * 3 + 1]
            b += this.rgb[i * 3 + 2]
            votes[this.label[i]]++
          }
        }
        let best = 0
        for (let c = 1; c < votes.length; c++) {
          if (votes[c] > votes[best] || (votes[c] === votes[best] && TIE_PRIORITY[c] > TIE_PRIORITY[best])) best = c
        }
        let inst = 0
        for (let dy = 0; dy < SS && inst === 0; dy++) {
          for (let dx = 0; dx < SS; dx++) {
            const i = (y * SS + dy) * sw + x * SS + dx
            if (this.label[i] === best && this.inst[i] !== 0) {
              inst = this.inst[i]
              break
            }
          }
        }
        const p = y * width + x
        label[p] = best
        instances[p] = inst
        post(r * inv, g * inv, b * inv, x, y, out)
        for (let c = 0; c < 3; c++) image[p * 3 + c] = Math.max(0, Math.min(255, Math.round(out[c] * 255)))
      }
    }
    return { image, label, instances }
  }
}
