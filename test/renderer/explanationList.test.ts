// @vitest-environment happy-dom
import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import type { ExplanationView } from '@common/methods/viewer'
import type { ClassDef } from '@common/types'
import ExplanationList from '@renderer/components/viewer/ExplanationList.vue'
import { NO_CLASS } from '@renderer/viewer/planes'
import { classNameIn, explanationSummary } from '@renderer/viewer/explanationSummary'

const classes: ClassDef[] = [
  { id: 6, name: 'person', color: [220, 20, 60] },
  { id: 7, name: 'rider', color: [255, 0, 0] }
]
const explanation = (id: number, method: string, classId: number, summary: Record<string, unknown>): ExplanationView => ({
  id, imageId: 1, modelId: 1, segmentId: null, method, classId, params: {}, summary, width: 4, height: 4,
  saliencyHeight: 2, saliencyWidth: 2, saliency: new Float32Array(4), request: [0, 4], createdAt: '2026-01-01T00:00:00Z'
})
// A deletion check as the services store it (ExplanationChecks draws its curves).
const faithfulness = (value: number | null) => ({
  value, aucSalient: 0.3, aucRandom: 0.75, randomAucs: [0.6, 0.8, 0.85], fractions: [0, 0.5, 1], salient: [0.8, 0.1, 0.08],
  random: [0.8, 0.6, 0.08], contextCells: 10, images: 6, timeMs: 12, params: { steps: 2, randomOrders: 3, seed: 0, baseline: { kind: 'constant', value: 0 } }
})
const context = explanation(4, 'context', 7, { scoreOriginal: 0.91234, scorePerturbed: 0.88, recovered: true, faithfulness: faithfulness(0.4567) })
const gradient = explanation(5, 'vg', 6, { scoreOriginal: 0.5, faithfulness: faithfulness(null) })

describe('explanation summaries', () => {
  it('name the method and class, then the scores the explanation has', () => {
    expect(explanationSummary(context, classes)).toBe('Context saliency of rider · score 0.912 · perturbed 0.880 · recovered · faithfulness 0.46')
    expect(explanationSummary(gradient, classes)).toBe('Vanilla gradient of person · score 0.500')
    expect(explanationSummary({ ...context, summary: { recovered: false } }, classes)).toBe('Context saliency of rider · not recovered')
  })

  it('name classes the dataset does not list by id, and none or the ignored label as a dash', () => {
    expect(classNameIn(classes, 9)).toBe('class 9')
    expect(classNameIn(classes, NO_CLASS)).toBe('—')
    expect(classNameIn(classes, null)).toBe('—')
  })
})

describe('the explanation list of the image view', () => {
  function mountList(currentId: number | null) {
    const w = mount(ExplanationList, {
      props: {
        explanations: [context, gradient], classes, perturbed: null, perturbedLoading: false, currentId, compareId: null,
        'onUpdate:currentId': (v: number | null) => w.setProps({ currentId: v }),
        'onUpdate:compareId': (v: number | null) => w.setProps({ compareId: v })
      }
    })
    return w
  }

  it('shows the chosen explanation, says it was chosen, and compares with any other', async () => {
    const w = mountList(4)
    expect(w.get('[data-testid="explanations"]').text()).toContain('#5 Vanilla gradient of person')
    await w.findAll('input[type="radio"]')[1].setValue(true)
    expect(w.props('currentId')).toBe(5)
    expect(w.emitted('choose')).toHaveLength(1)
    const options = w.get('[data-testid="compare-select"]').findAll('option').map((o) => o.text())
    expect(options).toEqual(['—', '#4 Context saliency of rider · score 0.912 · perturbed 0.880 · recovered · faithfulness 0.46'])
    await w.get('[data-testid="compare-select"]').setValue('4')
    expect(w.props('compareId')).toBe(4)
  })

  it('offers the perturbed image for perturbation methods only, and says while it loads', async () => {
    const w = mountList(5)
    expect(w.find('[data-testid="show-perturbed"]').exists()).toBe(false)
    await w.setProps({ currentId: 4 })
    await w.get('[data-testid="show-perturbed"]').trigger('click')
    expect(w.emitted('showPerturbed')).toEqual([[4]])
    await w.setProps({ perturbedLoading: true })
    expect(w.get('[data-testid="show-perturbed"]').attributes('disabled')).toBeDefined()
    expect(w.get('[data-testid="perturbed-loading"]').text()).toContain('Perturbing the image')
    await w.setProps({ perturbedLoading: false, perturbed: { png: 'data:image/png;base64,AA', prediction: 'data:image/png;base64,BB' } })
    expect(w.get('[data-testid="perturbed"]').findAll('img').map((i) => i.attributes('src'))).toEqual(['data:image/png;base64,AA', 'data:image/png;base64,BB'])
  })

  it("offers the shown explanation's settings for the form", async () => {
    const w = mountList(null)
    expect(w.find('[data-testid="use-settings"]').exists()).toBe(false)
    await w.setProps({ currentId: 5 })
    await w.get('[data-testid="use-settings"]').trigger('click')
    expect(w.emitted('useSettings')).toEqual([[5]])
  })
})
