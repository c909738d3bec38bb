import { beforeAll, describe, expect, it } from 'vitest'
import { defaultDemoModelDir } from '@main/paths'
import { generateStreetSceneBatch } from '@main/datasets/streetScenes'
import { initBackend } from '@main/engine/backend'
import { loadModel } from '@main/engine/modelFiles'
import { predictLabelMaps } from '@main/engine/segmentationModel'
import { fromLoadedModel } from '@main/engine/tfjsModel'

/**
 * The bundled demo model is what the app audits on first start: it must load (hash, sidecar, probability and
 * gradient checks) and segment fresh street scenes well, judged against the generator's own labels.
 */
beforeAll(async () => {
  // Through the engine's own start-up, which also fixes tfjs's cpu bilinear-resize gradient on non-square images.
  await initBackend({ flag: 'cpu' })
})

describe('bundled demo model', () => {
  it('loads, verifies and segments unseen street scenes with high pixel accuracy', async () => {
    const loaded = await loadModel(defaultDemoModelDir())
    expect(loaded.sidecar.classes.map((c) => c.name)).toEqual(['road', 'sidewalk', 'building', 'vegetation', 'sky', 'car', 'person', 'rider', 'bicycle', 'pole'])
    // A seed the model was not trained on (it trained on seed 0's train split).
    const batch = generateStreetSceneBatch({ seed: 987, height: 64, width: 128 }, 'test', 0, 4)
    const model = fromLoadedModel(loaded)
    const labels = await predictLabelMaps(model, batch.images, [4, 64, 128, 3])
    let correct = 0
    for (let i = 0; i < labels.length; i++) if (labels[i] === batch.labels[i]) correct++
    expect(correct / labels.length).toBeGreaterThan(0.9)
    // Disposing the opened model disposes the loaded one it wraps.
    model.dispose()
  })
})
