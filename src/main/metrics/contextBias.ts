import { AppError } from '@common/errors'

/**
 * The paper's context-bias metrics (Eq. 6–7) for one saliency map M at image resolution:
 *   CBD = ‖C∘M‖₁ / ‖C‖₁                with C = 1 − R_GT, the ground-truth context
 *   CBL = ‖C_bias∘M‖₁ / ‖C∘M‖₁        with C_bias the biased tile
 * C_bias is intersected with C: the digit can reach into the biased tile, and saliency on the digit is not
 * context, so CBL stays in [0, 1] and "everything in the bias tile" reads 1.
 * Undefined cases come back as null, for the caller to exclude from means and to count: CBD when the object
 * covers the whole image (‖C‖₁ = 0); CBL when there is no biased tile or the map puts no saliency on the
 * context at all (‖C∘M‖₁ = 0), where "what share of the context saliency is in the tile" has no answer.
 */
export interface ContextBiasResult {
  cbd: number | null
  cbl: number | null
  /** ‖C∘M‖₁ */
  contextSaliency: number
  /** ‖C‖₁, the context area in pixels. */
  contextArea: number
}

export function contextBias(
  saliency: ArrayLike<number>,
  objectMask: ArrayLike<number>,
  biasMask: ArrayLike<number> | null = null
): ContextBiasResult {
  const n = saliency.length
  if (objectMask.length !== n || (biasMask !== null && biasMask.length !== n)) {
    throw new AppError(
      'REQUEST_SIZE_MISMATCH',
      `saliency has ${n} pixels, object mask ${objectMask.length}` + (biasMask ? `, bias mask ${biasMask.length}` : '')
    )
  }
  let contextArea = 0
  let contextSaliency = 0
  let biasSaliency = 0
  for (let i = 0; i < n; i++) {
    if (objectMask[i]) continue
    const m = Math.abs(saliency[i])
    contextArea++
    contextSaliency += m
    if (biasMask !== null && biasMask[i]) biasSaliency += m
  }
  return {
    cbd: contextArea === 0 ? null : contextSaliency / contextArea,
    cbl: biasMask === null || contextSaliency === 0 ? null : biasSaliency / contextSaliency,
    contextSaliency,
    contextArea
  }
}
