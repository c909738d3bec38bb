// @vitest-environment happy-dom
import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import ExplanationChecks from '@renderer/components/ExplanationChecks.vue'

const faithfulness = {
  value: 0.6,
  aucSalient: 0.3,
  aucRandom: 0.75,
  randomAucs: [0.6, 0.8, 0.85],
  fractions: [0, 0.5, 1],
  salient: [0.8, 0.1, 0.08],
  random: [0.8, 0.6, 0.08],
  contextCells: 10,
  images: 6,
  timeMs: 12,
  params: { steps: 2, randomOrders: 3, seed: 0, baseline: { kind: 'constant', value: 0 } }
}

const points = (w: ReturnType<typeof mount>, id: string) =>
  (w.get(`[data-testid="${id}"]`).attributes('points') ?? '').split(' ').map((p) => p.split(',').map(Number))

describe('an explanation\'s own checks', () => {
  it('shows recovery with its preservation loss, the deletion figure, and both curves', () => {
    const w = mount(ExplanationChecks, { props: { summary: { scoreOriginal: 0.8, preservation: 0.0312, recovered: false, faithfulness } } })
    expect(w.get('[data-testid="recovery"]').text()).toContain('Not recovered: preservation loss 0.0312')
    expect(w.get('[data-testid="faithfulness"]').text()).toMatch(/Deletion faithfulness 0\.60 · AUC 0\.30 salient-first vs 0\.75 random \(3 orders, 10 context cells\)/)
    // The salient-first area is below every random order's: the score falls faster than in any of them.
    expect(w.text()).toContain('faster than in every random order')
    const salient = points(w, 'curve-salient')
    const random = points(w, 'curve-random')
    expect(salient).toHaveLength(3)
    // Both start at the original score (the same height) and the salient curve is lower (larger y) halfway.
    expect(salient[0][1]).toBeCloseTo(random[0][1], 6)
    expect(salient[1][1]).toBeGreaterThan(random[1][1])
    expect(salient[2][0]).toBeGreaterThan(salient[0][0])
  })

  it('says when the salient order is within the random orders\' spread, and when nothing was measured', () => {
    const within = mount(ExplanationChecks, { props: { summary: { faithfulness: { ...faithfulness, value: 0.02, aucSalient: 0.74 } } } })
    expect(within.text()).toContain('no better than removing context at random')
    expect(within.find('[data-testid="recovery"]').exists()).toBe(false)
    // A score that removing all context does not move: nothing to rank, whatever the areas say.
    const flat = mount(ExplanationChecks, { props: { summary: { faithfulness: { ...faithfulness, value: 0.0001, aucSalient: 0.9999, aucRandom: 1, randomAucs: [1, 1, 1], salient: [0.8, 0.8, 0.799], random: [0.8, 0.8, 0.799] } } } })
    expect(flat.text()).toContain('Removing all context changes the score by 0.1 %')
    const none = mount(ExplanationChecks, { props: { summary: { faithfulness: { ...faithfulness, value: null, aucSalient: null, aucRandom: null, randomAucs: [], fractions: [0], salient: [0.8], random: [0.8], contextCells: 0 } } } })
    expect(none.text()).toContain('no context to remove')
    expect(none.find('[data-testid="deletion-curves"]').exists()).toBe(false)
    const old = mount(ExplanationChecks, { props: { summary: { recovered: true, preservation: 0 } } })
    expect(old.get('[data-testid="faithfulness-missing"]').text()).toContain('No deletion check stored')
  })
})
