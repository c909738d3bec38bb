import { ref, type Ref } from 'vue'
import type { ClassDef } from '@common/types'
import { api } from '../api/client'
import { useAppStore } from '../stores/app'
import { colourLabels, rgbaCanvas } from './planes'

export interface PerturbedImage {
  png: string
  /** The model's labels on the perturbed image, coloured like the prediction overlay. */
  prediction: string
}

/** What the optimiser settled on for a perturbation explanation: the perturbed image and the model's prediction on it. */
export function usePerturbedImage(classes: Readonly<Ref<ClassDef[]>>) {
  const app = useAppStore()
  const perturbed = ref<PerturbedImage | null>(null)
  /** The perturbed image needs a forward pass, which may wait for a worker: say so while it does. */
  const loading = ref(false)

  async function show(explanationId: number): Promise<void> {
    if (loading.value) return
    loading.value = true
    perturbed.value = null
    try {
      const p = await api['explanations:perturbed']({ explanationId })
      perturbed.value = { png: p.png, prediction: rgbaCanvas(colourLabels(p.prediction, classes.value, 1), p.width, p.height).toDataURL() }
    } catch (err) {
      app.report(err)
    } finally {
      loading.value = false
    }
  }

  return { perturbed, loading, show }
}
