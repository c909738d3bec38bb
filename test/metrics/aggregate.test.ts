import { describe, expect, it } from 'vitest'
import { aggregateBiasMatrix, aggregateContextBias, type ContextBiasRecord } from '@main/metrics'

const rec = (
  biasedDigit: number | null,
  texture: number | null,
  seed: number,
  digit: number,
  cbd: number | null,
  cbl: number | null
): ContextBiasRecord => ({ biasedDigit, texture, seed, digit, cbd, cbl })

const records: ContextBiasRecord[] = [
  // Biased to 2, texture 3: two images of digit 2 (means: CBD 0.3, CBL 1 with one undefined) and one of 5.
  rec(2, 3, 0, 2, 0.2, 1),
  rec(2, 3, 0, 2, 0.4, null),
  rec(2, 3, 0, 5, 0.1, null),
  // Biased to 2, texture 7: one image of digit 2.
  rec(2, 7, 0, 2, 0.5, 0.6),
  // Unbiased models, seeds 0 and 1, digit 0.
  rec(null, null, 0, 0, 0.1, 0.5),
  rec(null, null, 1, 0, 0.3, 0.7)
]

describe('Fig. 4 style aggregation', () => {
  it('averages over images per model first, then over bias textures and seeds', () => {
    const { cbd, cbl } = aggregateContextBias(records)
    expect(cbd.rowLabels).toEqual(['N', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9'])
    expect(cbd.columnLabels).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'])
    // Row "2", column 2: mean(0.3, 0.5) = 0.4, not the image mean (0.2 + 0.4 + 0.5) / 3.
    expect(cbd.values[3][2]).toBeCloseTo(0.4, 12)
    expect(cbd.cells[3][2]).toMatchObject({ models: 2, images: 3, undefinedImages: 0 })
    expect(cbd.cells[3][2].std).toBeCloseTo(0.1, 12)
    expect(cbl.values[3][2]).toBeCloseTo(0.8, 12)
    expect(cbl.cells[3][2]).toMatchObject({ models: 2, images: 2, undefinedImages: 1 })
    expect(cbd.values[3][5]).toBeCloseTo(0.1, 12)
    // Every CBL of the cell undefined: no value, and the image is counted.
    expect(cbl.cells[3][5]).toEqual({ mean: null, std: null, models: 0, images: 0, undefinedImages: 1 })
    expect(cbd.values[0][0]).toBeCloseTo(0.2, 12)
    expect(cbl.values[0][0]).toBeCloseTo(0.6, 12)
    const filled = cbd.values.flat().filter((v) => v !== null)
    expect(filled).toHaveLength(3)
  })

  it('aggregates any per-model value, e.g. a digit IoU', () => {
    const m = aggregateBiasMatrix(
      [
        { biasedDigit: 9, texture: 3, seed: 0, digit: 4, iou: 0.5 },
        { biasedDigit: 9, texture: 3, seed: 1, digit: 4, iou: 0.7 }
      ],
      (r) => r.iou
    )
    expect(m.values[10][4]).toBeCloseTo(0.6, 12)
  })

  it('rejects digits outside 0–9', () => {
    expect(() => aggregateContextBias([rec(10, 3, 0, 2, 0.1, 0.1)])).toThrow(RangeError)
    expect(() => aggregateContextBias([rec(null, null, 0, 11, 0.1, 0.1)])).toThrow(RangeError)
  })

  it('keeps weak and strong bias of the same digit apart, as the paper draws them', () => {
    const mixed: ContextBiasRecord[] = [
      { ...rec(2, 3, 0, 2, 0.6, 0.9), bias: 'strong' },
      { ...rec(2, 3, 0, 2, 0.2, 0.7), bias: 'weak' },
      { ...rec(5, 3, 0, 5, 0.4, 0.8), bias: 'strong' },
      rec(null, null, 0, 2, 0.05, 0.5)
    ]
    const { cbd, cbl } = aggregateContextBias(mixed)
    expect(cbd.rowLabels).toHaveLength(21)
    expect(cbd.rowLabels.slice(0, 2)).toEqual(['N', '0 strong'])
    expect(cbd.rowLabels[11]).toBe('0 weak')
    const at = (label: string, col: number) => cbd.values[cbd.rowLabels.indexOf(label)][col]
    // Merged, row 2 would read 0.4; apart, each strength keeps its own value.
    expect(at('2 strong', 2)).toBeCloseTo(0.6)
    expect(at('2 weak', 2)).toBeCloseTo(0.2)
    expect(at('5 strong', 5)).toBeCloseTo(0.4)
    expect(at('5 weak', 5)).toBeNull()
    expect(at('N', 2)).toBeCloseTo(0.05)
    expect(cbl.values[cbl.rowLabels.indexOf('2 weak')][2]).toBeCloseTo(0.7)
    // One strength only: the plain Fig. 4 rows, whatever the strength.
    const weakOnly = aggregateContextBias([{ ...rec(2, 3, 0, 2, 0.2, 0.7), bias: 'weak' }]).cbd
    expect(weakOnly.rowLabels).toEqual(['N', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9'])
    expect(weakOnly.values[3][2]).toBeCloseTo(0.2)
    // Rows come from the run's strengths when given; a record of another strength is an error, not a merge.
    expect(aggregateContextBias([rec(2, 3, 0, 2, 0.2, 0.7)], ['strong', 'weak']).cbd.rowLabels).toHaveLength(21)
    expect(() => aggregateContextBias([{ ...rec(2, 3, 0, 2, 0.2, 0.7), bias: 'weak' }], ['strong'])).toThrow(RangeError)
  })
})
