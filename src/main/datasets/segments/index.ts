/** Segments over label maps (pure functions) and their storage in a project. */
export { connectedComponents, componentCropMask, type Component, type ComponentLabeling } from './components'
export {
  predictedSegments,
  errorRegions,
  gtInstanceSegments,
  segmentsForImage,
  scaledMinArea,
  segmentMask,
  type ExtractedSegment,
  type ComponentOptions,
  type SegmentInputs
} from './segments'
export { storeSegments, extractImageSegments, type ExtractResult } from './store'
