// A model folder: its description (sidecar.ts), loading it checked against that description (load.ts), and the
// probe that checks what saliency relies on (verify.ts).
export { fsHandler, modelJsonPath, MODEL_JSON } from './fsHandler'
export { contentHash, detectModelFormat, readSidecar, saveModel, writeSidecar } from './sidecar'
export { loadModel, type LoadOptions } from './load'
export { probeInput, verifyModel, type LoadedModel, type VerifyOptions } from './verify'
