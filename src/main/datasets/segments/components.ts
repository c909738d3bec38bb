import type { Connectivity } from '@common/datasets'

export interface Component {
  /** The key every pixel of the component shares. */
  key: number
  area: number
  /** [x, y, width, height] */
  bbox: [number, number, number, number]
}

export interface ComponentLabeling {
  width: number
  height: number
  /** Component index per pixel; -1 for excluded pixels. */
  labels: Int32Array
  components: Component[]
}

/**
 * Connected components of equal keys: neighbouring pixels (4: sharing an edge; 8: also a corner) with the same
 * key form one component; pixels with a negative key belong to none. One flood fill over the image with an
 * explicit stack, so large segments cannot overflow the call stack.
 */
export function connectedComponents(keys: ArrayLike<number>, width: number, height: number, connectivity: Connectivity = 4): ComponentLabeling {
  const n = width * height
  if (keys.length !== n) throw new RangeError(`keys has ${keys.length} entries, expected ${width}×${height}`)
  const labels = new Int32Array(n).fill(-1)
  const components: Component[] = []
  const stack = new Int32Array(n)
  const diagonal = connectivity === 8
  const last = width - 1
  let key = 0
  let index = 0
  let top = 0
  // Neighbours are unrolled through one helper: this runs once per pixel of the image.
  const visit = (q: number): void => {
    if (labels[q] === -1 && keys[q] === key) {
      labels[q] = index
      stack[top++] = q
    }
  }
  for (let start = 0; start < n; start++) {
    key = keys[start]
    if (key < 0 || labels[start] !== -1) continue
    index = components.length
    top = 0
    stack[top++] = start
    labels[start] = index
    let area = 0
    let x0 = width
    let y0 = height
    let x1 = -1
    let y1 = -1
    while (top > 0) {
      const p = stack[--top]
      const y = (p / width) | 0
      const x = p - y * width
      area++
      if (x < x0) x0 = x
      if (x > x1) x1 = x
      if (y < y0) y0 = y
      if (y > y1) y1 = y
      if (x > 0) visit(p - 1)
      if (x < last) visit(p + 1)
      if (y > 0) {
        visit(p - width)
        if (diagonal) {
          if (x > 0) visit(p - width - 1)
          if (x < last) visit(p - width + 1)
        }
      }
      if (y < height - 1) {
        visit(p + width)
        if (diagonal) {
          if (x > 0) visit(p + width - 1)
          if (x < last) visit(p + width + 1)
        }
      }
    }
    components.push({ key, area, bbox: [x0, y0, x1 - x0 + 1, y1 - y0 + 1] })
  }
  return { width, height, labels, components }
}

/** Binary mask of one component cropped to its bounding box (bbox width × height, row-major). */
export function componentCropMask(labeling: ComponentLabeling, index: number): Uint8Array {
  const { width, labels } = labeling
  const [x0, y0, w, h] = labeling.components[index].bbox
  const mask = new Uint8Array(w * h)
  for (let y = 0; y < h; y++) {
    const row = (y0 + y) * width + x0
    for (let x = 0; x < w; x++) if (labels[row + x] === index) mask[y * w + x] = 1
  }
  return mask
}
