import { describe, expect, it } from 'vitest'
import { ci95, evenlySpaced, planStages, summariseMethod, summaryStat, type SanityUnit } from '@main/benchmark/sanityCheck'

const units = Array.from({ length: 19 }, (_, i) => ({ layers: i === 18 ? ['classifier'] : [`conv${i}`, `bn${i}`], weights: [] }))
const cmp = (spearman: number, collapsed = false) => ({ spearman, pearson: spearman, collapsed })

describe('sanity check plan and summary', () => {
  it('plans the cascade from the output down: the top layer, the top half, all', () => {
    const stages = planStages(['top', 0.5, 1], units)
    expect(stages.map((s) => [s.label, s.layers])).toEqual([
      ['top layer', 1],
      ['top 50%', 10],
      ['all layers', 19]
    ])
    expect(stages[0].layerNames).toEqual(['classifier'])
    expect(stages[1].layerNames.slice(0, 3)).toEqual(['classifier', 'conv17', 'bn17'])
    expect(stages[2].layerNames.at(-1)).toBe('bn0')
  })

  it('samples evenly over the requests, in order', () => {
    expect(evenlySpaced(Array.from({ length: 20 }, (_, i) => i), 6)).toEqual([1, 5, 8, 11, 15, 18])
    expect(evenlySpaced([4, 5], 6)).toEqual([4, 5])
  })

  it('gives mean ± sample standard deviation with n, and a Student-t interval', () => {
    expect(summaryStat([])).toEqual({ mean: null, std: null, n: 0 })
    expect(summaryStat([0.5])).toEqual({ mean: 0.5, std: null, n: 1 })
    const s = summaryStat([0.2, 0.4, 0.6])
    expect(s.mean).toBeCloseTo(0.4, 12)
    expect(s.std).toBeCloseTo(0.2, 12)
    // t(0.975, 2 df) = 4.303: 0.4 ± 4.303 · 0.2/√3.
    const [lo, hi] = ci95(s)!
    expect(hi - 0.4).toBeCloseTo((4.303 * 0.2) / Math.sqrt(3), 10)
    expect(lo).toBeCloseTo(0.8 - hi, 12)
  })

  it('counts collapsed masks as 0, leaves out constant references, and judges by the deepest stage', () => {
    const stages = planStages(['top', 1], units)
    const unit: SanityUnit = {
      method: 'vg',
      requests: [],
      seconds: 1,
      stages: [
        { layers: 1, comparisons: [cmp(0.9), cmp(0.8), null, cmp(0, true)] },
        { layers: 19, comparisons: [cmp(0.7), cmp(0.9), null, cmp(0.8)] }
      ]
    }
    const m = summariseMethod(unit, stages)
    expect(m.excluded).toBe(1)
    expect(m.stages[0]).toMatchObject({ label: 'top layer', collapsed: 1, spearman: { n: 3 } })
    expect(m.stages[0].spearman.mean).toBeCloseTo(1.7 / 3, 12)
    expect(m.stages[1].spearman.mean).toBeCloseTo(0.8, 12)
    expect(m.verdict).toBe('fails')
    expect(m.borderline).toBe(false)
    // A cascade that empties every mask passes; one whose interval holds 0.5 passes or fails as "borderline".
    const empty = summariseMethod({ ...unit, stages: [unit.stages[0], { layers: 19, comparisons: [cmp(0, true), cmp(0, true), null, cmp(0, true)] }] }, stages)
    expect(empty.verdict).toBe('passes')
    expect(empty.stages[1].collapsed).toBe(3)
    const wide = summariseMethod({ ...unit, stages: [unit.stages[0], { layers: 19, comparisons: [cmp(0.1), cmp(0.9), cmp(0.3)] }] }, stages)
    expect(wide.verdict).toBe('passes')
    expect(wide.borderline).toBe(true)
    const none = summariseMethod({ ...unit, stages: [{ layers: 1, comparisons: [null] }, { layers: 19, comparisons: [null] }] }, stages)
    expect(none.verdict).toBe('not assessed')
  })
})
