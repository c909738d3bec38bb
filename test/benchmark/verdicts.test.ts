import { describe, expect, it } from 'vitest'
import type { BenchmarkModelInfo } from '@common/benchmark'
import type { ImageRecord } from '@main/benchmark/evaluate'
import { methodReading, modelVerdicts } from '@main/benchmark/verdicts'
import { verdictSvg } from '@main/benchmark/verdictFigure'
import { verdictCsv, verdictMarkdown } from '@main/benchmark/verdictTables'

const rec = (digit: number, cbd: number, cbl: number | null = null): ImageRecord => ({
  index: 0,
  digit,
  cbd,
  cbl,
  requestArea: 50,
  gtArea: 60,
  biasedTile: cbl === null ? null : 1
})

const model = (key: string, bias: 'none' | 'strong', seed: number, digitIou: number[], biasedDigit: number | null = null): BenchmarkModelInfo => ({
  key,
  row: bias === 'none' ? 'N' : String(biasedDigit),
  bias,
  biasedDigit,
  texture: bias === 'none' ? null : 11,
  seed,
  source: 'trained',
  dir: `/models/${key}`,
  params: 1,
  valMiou: 0.5,
  testMiou: 0.5,
  digitIou
})

describe('per-model verdicts (issue 18)', () => {
  it('reads a row: mCBD per digit, the highest other digit, mCBL over non-empty masks, empty shares', () => {
    // Digit 6 biased: three masks, one empty (cbd 0, CBL undefined); digit 3 the strongest other.
    const records = [rec(6, 0.3, 0.9), rec(6, 0.24, 0.8), rec(6, 0), rec(3, 0.1), rec(3, 0.05), rec(1, 0)]
    const r = methodReading('context', records, 6)
    expect(r.mcbd[6]).toBeCloseTo(0.18, 12)
    expect(r.requests[6]).toBe(3)
    expect(r.emptyShare[6]).toBeCloseTo(1 / 3, 12)
    expect(r.emptyShare[1]).toBe(1)
    expect(r.emptyShare[0]).toBeNull()
    expect(r.mcblBiased).toBeCloseTo(0.85, 12)
    expect(r.mcblImages).toBe(2)
    expect([r.mcbdOthersMaxDigit, r.mcbdOthersMax]).toEqual([3, 0.07500000000000001])
    expect(r.detects).toBe(true)
    // The same row with a lower mCBL does not detect, nor does one whose biased digit is not the highest.
    expect(methodReading('context', [rec(6, 0.3, 0.7), rec(3, 0.1)], 6).detects).toBe(false)
    expect(methodReading('context', [rec(6, 0.3, 0.9), rec(3, 0.31)], 6).detects).toBe(false)
    // Empty masks of the biased digit that started from S ≈ 0 (below 10 % of the original score) are counted apart.
    const scored = (cbd: number, start: number): ImageRecord => ({ ...rec(6, cbd), scoreOriginal: 0.8, scoreStart: start, scoreFinal: 0 })
    expect(methodReading('context', [scored(0, 0.01), scored(0, 0.5), scored(0.2, 0.5)], 6).emptyStartedLow).toBe(1)
    expect(methodReading('context', [scored(0.2, 0.5)], 6).emptyStartedLow).toBe(0)
    // Without start scores (gradient methods, older cached units) the count is unknown, not zero.
    expect(r.emptyStartedLow).toBeNull()
  })

  it('reads the row again over the requests whose score depends on their context', () => {
    // S = 0.8 on the original; without context 0.2 (depends) or 0.79 (does not: an empty mask is the answer there).
    const withEmpty = (digit: number, cbd: number, cbl: number | null, empty: number): ImageRecord => ({
      ...rec(digit, cbd, cbl),
      scoreOriginal: 0.8,
      scoreStart: 0.5,
      scoreFinal: 0.7,
      scoreEmptyMask: empty
    })
    const records = [withEmpty(6, 0.3, 0.9, 0.2), withEmpty(6, 0.1, 0.5, 0.2), withEmpty(6, 0, null, 0.79), withEmpty(6, 0, null, 0.75), withEmpty(3, 0.2, null, 0.1), withEmpty(3, 0, null, 0.8)]
    const r = methodReading('context', records, 6)
    // 0.75 < 0.9 × 0.8 = 0.72 is false: not dependent; 0.2 is.
    expect(r.contextDependent[6]).toBe(2)
    expect(r.contextDependent[3]).toBe(1)
    // Empty masks only where the score did not need context: none collapsed. One that needed it would count.
    expect(r.collapsed[6]).toBe(0)
    expect(methodReading('context', [...records, withEmpty(6, 0, null, 0.1)], 6).collapsed[6]).toBe(1)
    expect(r.contextDependent[0]).toBeNull()
    expect(r.mcbdDependent[6]).toBeCloseTo(0.2, 12)
    expect(r.mcbd[6]).toBeCloseTo(0.1, 12)
    expect(r.mcbdDependent[3]).toBeCloseTo(0.2, 12)
    expect(r.mcblDependent).toBeCloseTo(0.7, 12)
    expect(r.mcblDependentImages).toBe(2)
    // A digit with one record lacking the score without context is unknown as a whole, not counted from the rest.
    const partial = methodReading('context', [records[0], rec(6, 0.1)], 6)
    expect(partial.contextDependent[6]).toBeNull()
    expect(partial.mcbdDependent[6]).toBeNull()
  })

  it('says learned and detected, learned and missed, not learned, or undetermined, against the unbiased model of the same seed', () => {
    const iou = (d6: number): number[] => [0.6, 0.7, 0.5, 0.4, 0.1, 0.4, d6, 0.4, 0.5, 0.4]
    const models = [
      model('n0', 'none', 0, iou(0.6)),
      model('n1', 'none', 1, iou(0.1)),
      model('detected', 'strong', 0, iou(0.05), 6),
      model('missed', 'strong', 0, iou(0.1), 6),
      model('kept', 'strong', 0, iou(0.5), 6),
      model('seed1', 'strong', 1, iou(0.0), 6),
      model('alone', 'strong', 2, iou(0.0), 6)
    ]
    const good = [rec(6, 0.3, 0.95), rec(6, 0.25, 0.9), rec(2, 0.05)]
    const empty = [rec(6, 0), rec(6, 0), rec(6, 0.2, 0.9), rec(2, 0.1)]
    const ex = [
      { modelKey: 'detected', method: 'context' as const, records: good },
      { modelKey: 'missed', method: 'context' as const, records: empty },
      { modelKey: 'kept', method: 'context' as const, records: good },
      { modelKey: 'seed1', method: 'context' as const, records: good },
      { modelKey: 'alone', method: 'context' as const, records: good }
    ]
    const v = modelVerdicts(models, ex, ['context'])
    const byKey = Object.fromEntries(v.map((x) => [x.key, x]))
    expect(v.map((x) => x.key)).toEqual(['detected', 'missed', 'kept', 'seed1', 'alone'])
    expect(byKey.detected.verdict).toBe('learned-detected')
    expect(byKey.detected.iouDrop).toBeCloseTo(0.55, 12)
    // Two of three masks of digit 6 empty: mCBD 0.067 stays below digit 2's 0.1.
    expect(byKey.missed.verdict).toBe('learned-missed')
    expect(byKey.missed.reason).toContain('2/3 masks empty')
    expect(byKey.kept.verdict).toBe('not-learned')
    expect(byKey.kept.learned).toBe('no')
    // The unbiased model of seed 1 hardly segments digit 6 (0.1): a drop of 0.15 cannot show.
    expect(byKey.seed1.verdict).toBe('undetermined')
    expect(byKey.seed1.reason).toContain('too poorly')
    // No unbiased model of seed 2 at all.
    expect(byKey.alone.iouUnbiasedModel).toBeNull()
    expect(byKey.alone.verdict).toBe('undetermined')

    const md = verdictMarkdown(v)
    expect(md).toContain('5 biased models: 1 bias learned and detected, 1 learned, missed, 1 not learned, 2 undetermined.')
    expect(md).toContain('| strong-d6-t11-s0 | 0.60 → 0.05 (0.55) | yes |')
    expect(verdictCsv(v).trim().split('\n')).toHaveLength(1 + 5)

    // The figure plots the models that have both coordinates (the one without an unbiased model has no drop).
    const svg = verdictSvg(v)
    expect(svg).toContain('<svg')
    for (const name of ['strong-d6-t11-s0']) expect(svg).toContain(name)
    expect(svg).toContain('learned, missed')
    expect(svg.match(/#d73027/gi)?.length ?? 0).toBeGreaterThan(0)
  })
})
