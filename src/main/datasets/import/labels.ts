import { readFile } from 'node:fs/promises'
import { cityscapesTrainId, CITYSCAPES_MAX_LABEL_ID, IGNORE_LABEL } from '@common/datasets'
import type { ClassDef } from '@common/types'
import { sharpWithinLimit } from './pixelLimit'
import { decodePng, isPng, labelPlane } from './png'
import type { InstanceEncoding, LabelEncoding } from './types'

export interface RawLabel {
  width: number
  height: number
  /** Label values exactly as stored in the file (label id, class id or palette index). */
  values: Uint16Array
}

/**
 * A label file's raw values. PNGs go through our own decoder (palette indices, 16-bit ids, no colour
 * management); anything else through sharp's first channel, 8 bit. Either way a file whose header declares
 * more pixels than the image limit is refused (ImageTooLargeError) before it is decoded.
 */
export async function readLabelFile(path: string): Promise<RawLabel> {
  const buf = await readFile(path)
  if (isPng(buf)) {
    const png = await decodePng(buf, { labelsOnly: true })
    return { width: png.width, height: png.height, values: labelPlane(png) }
  }
  const { data, info } = await (await sharpWithinLimit(buf)).extractChannel(0).raw().toBuffer({ resolveWithObject: true })
  return { width: info.width, height: info.height, values: Uint16Array.from(data) }
}

/** Lookup over all 16-bit values: 1 where the value may appear in a label file of this encoding. */
export function validLabelValues(encoding: LabelEncoding, classes: ClassDef[], ignoreIds: number[]): Uint8Array {
  const valid = new Uint8Array(65536)
  if (encoding === 'cityscapes-labelIds') valid.fill(1, 0, CITYSCAPES_MAX_LABEL_ID + 1)
  else {
    for (const c of classes) valid[c.id] = 1
    for (const id of ignoreIds) valid[id] = 1
  }
  return valid
}

/** Values not in the lookup: how many pixels, and which values (the first few, sorted). */
export function unknownValues(values: Uint16Array, valid: Uint8Array): { pixels: number; ids: number[] } {
  let pixels = 0
  const seen = new Set<number>()
  for (let i = 0; i < values.length; i++) {
    const v = values[i]
    if (!valid[v]) {
      pixels++
      seen.add(v)
    }
  }
  return { pixels, ids: [...seen].sort((a, b) => a - b).slice(0, 20) }
}

/** Raw label values → train ids, IGNORE_LABEL for every ignored or unmapped value. */
export function toTrainIds(values: Uint16Array, encoding: LabelEncoding, ignoreIds: number[]): Uint16Array {
  const table = new Uint16Array(65536)
  if (encoding === 'cityscapes-labelIds') {
    table.fill(IGNORE_LABEL)
    for (let id = 0; id <= CITYSCAPES_MAX_LABEL_ID; id++) table[id] = cityscapesTrainId(id)
  } else {
    for (let v = 0; v < 65536; v++) table[v] = v
    for (const id of ignoreIds) table[id] = IGNORE_LABEL
  }
  const out = new Uint16Array(values.length)
  for (let i = 0; i < values.length; i++) out[i] = table[values[i]]
  return out
}

export interface InstanceMap {
  width: number
  height: number
  /** Instance id per pixel; 0 = no instance. Ids are the file's own (Cityscapes: labelId × 1000 + n). */
  ids: Uint32Array
  /** Train id of each instance. */
  classOf: Map<number, number>
}

/**
 * Raw instance values → instances with a train id. Pixels whose train label is ignored belong to no instance,
 * and instances of classes without a train id are dropped.
 */
export function normalizeInstances(raw: RawLabel, encoding: InstanceEncoding, trainLabels: Uint16Array): InstanceMap {
  const n = raw.width * raw.height
  const ids = new Uint32Array(n)
  const classOf = new Map<number, number>()
  if (encoding === 'cityscapes') {
    for (let i = 0; i < n; i++) {
      const v = raw.values[i]
      // Below 1000 the value is a label id of a crowd/stuff region, which has no instances.
      if (v < 1000 || trainLabels[i] === IGNORE_LABEL) continue
      const cls = cityscapesTrainId(Math.floor(v / 1000))
      if (cls === IGNORE_LABEL) continue
      ids[i] = v
      classOf.set(v, cls)
    }
    return { width: raw.width, height: raw.height, ids, classOf }
  }
  // VOC's object map carries no class: take the majority train id under each instance.
  const votes = new Map<number, Map<number, number>>()
  for (let i = 0; i < n; i++) {
    const v = raw.values[i]
    const cls = trainLabels[i]
    if (v === 0 || v === IGNORE_LABEL || cls === IGNORE_LABEL) continue
    ids[i] = v
    let m = votes.get(v)
    if (!m) votes.set(v, (m = new Map()))
    m.set(cls, (m.get(cls) ?? 0) + 1)
  }
  for (const [id, m] of votes) {
    let best = -1
    let bestCount = -1
    for (const [cls, count] of m) if (count > bestCount || (count === bestCount && cls < best)) [best, bestCount] = [cls, count]
    classOf.set(id, best)
  }
  return { width: raw.width, height: raw.height, ids, classOf }
}
