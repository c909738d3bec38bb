/**
 * Bilinear upsampling with half-pixel centres, written as two interpolation matrices (Mup = A_h · M · A_wᵀ): the
 * same weights every runtime uses to upsample masks inside the perturbation step. One implementation, in
 * src/common, shared with the renderer that draws maps from their low-resolution cells.
 */
export { interpolationMatrix, upsampleBilinear } from '@common/saliencyMap'
