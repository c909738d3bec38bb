export { generateStreetScene, streetSceneOptions, BIKE_CLEARANCE_64, type StreetScene } from './scene'
export {
  generateStreetSceneBatch,
  generateStreetSceneArrays,
  streetSceneSample,
  streetSceneSeed,
  parseStreetScenesSpec,
  type StreetSceneBatch,
  type StreetScenesHooks
} from './batch'
export { writeStreetScenes, streetSampleName, STREET_SCENES_FORMAT, STREET_SCENES_FORMAT_VERSION } from './writer'
export { writeStreetSceneContactSheet, colorizeLabels } from './contactSheet'
