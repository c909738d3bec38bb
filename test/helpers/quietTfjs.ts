// Vitest setup: tests set TensorFlow.js backends directly, without the engine's initBackend(), so each test process
// would print tfjs's "looks like you are running TensorFlow.js in Node.js" banner. Same flag as
// silenceTfjsChatter() in src/main/engine/backend.ts; tfjs-core alone is imported because it is a fraction of the
// engine's import cost, and its flags are global (shared with the @tensorflow/tfjs the tests load). Renderer tests
// under happy-dom never load tfjs, so they skip it.
if (!('window' in globalThis)) {
  const tf = await import('@tensorflow/tfjs-core')
  tf.env().set('PROD', true)
}

export {}
