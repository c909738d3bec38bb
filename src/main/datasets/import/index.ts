/**
 * Dataset import: Cityscapes, Pascal VOC and generic folders (texture-MNIST included) into a project, and the
 * loaders that give later steps (prediction, saliency, metrics) an image's pixels and train-id label map.
 */
export { importDataset, type ImportHooks } from './importer'
export { thumbnailPath, thumbnailWebp } from './thumbnails'
export { loadImage, loadDisplayImage, loadLabelMap, loadInstanceMap, datasetSource, thumbnailFor, type LoadedImage, type DisplayImage, type LoadedLabelMap, type DatasetSource } from './load'
export { readLabelFile, toTrainIds, normalizeInstances, type RawLabel, type InstanceMap } from './labels'
export { decodePng, labelPlane, PngDecodeError, type DecodedPng } from './png'
export { ImageTooLargeError, maxImagePixels, DEFAULT_MAX_IMAGE_PIXELS } from './pixelLimit'
export type { LabelEncoding, InstanceEncoding, StoredDatasetOptions } from './types'
