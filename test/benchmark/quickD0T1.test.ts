import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BIAS_LEARNED_IOU_DROP, DETECTION_MIN_MCBL, type BenchmarkResult } from '@common/benchmark'
import { summaryText } from '@main/benchmark/output'
import { CliSession } from '@main/cli/session'

/**
 * Issue 18's second CI case: a digit (0) and a texture (1, outside the paper-style five) other than the quick
 * preset's, with the model the sweep trained for them. It learned its bias on about half of its digit-0 images, so
 * the all-images mean of grid saliency reads "learned, missed"; what must hold is per request: wherever the
 * model's score needs its context, grid saliency finds context, and there it lies on the bias tile; an empty mask
 * appears only where removing all context leaves the score (the model needed none). A method that collapsed on
 * this texture, or spread its saliency, fails here; so does a change that broke the score without context.
 */
describe('benchmark second case: strong bias on digit 0 towards texture 1', () => {
  let home: string
  let session: CliSession
  let result: BenchmarkResult
  const at = (m: { rowLabels: string[]; values: (number | null)[][] }, row: string, col: number): number | null =>
    m.values[m.rowLabels.indexOf(row)][col]

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'ctxlens-bench-d0t1-'))
    process.env.CTXLENS_HOME = home
    session = new CliSession()
    result = await session.call('benchmark:run', { preset: 'quick-d0-t1', outDir: join(home, 'runs') })
    console.log(summaryText(result))
    console.log(`wall ${result.wallSeconds.toFixed(0)} s`)
  }, 20 * 60_000)
  afterAll(() => {
    session?.dispose()
    rmSync(home, { recursive: true, force: true })
  })

  it('uses the committed models, and the biased model learned its bias against the unbiased model of its seed', () => {
    expect(result.models.map((m) => [m.row, m.source])).toEqual([
      ['N', 'committed'],
      ['0', 'committed']
    ])
    const v = result.verdicts[0]
    expect([v.name, v.learned]).toEqual(['strong-d0-t1-s0', 'yes'])
    expect(v.iouDrop!).toBeGreaterThanOrEqual(BIAS_LEARNED_IOU_DROP)
    expect(at(result.iou, '0', 0)!).toBeLessThan(at(result.iou, 'N', 0)! - BIAS_LEARNED_IOU_DROP)
  })

  it('finds context wherever the score needs it, on the bias tile, and leaves masks empty only where it does not', () => {
    const grid = result.verdicts[0].methods.find((m) => m.method === 'context')!
    const n = grid.requests[0]
    expect(n).toBeGreaterThanOrEqual(18)
    const dependent = grid.contextDependent[0]!
    // Some but not all of digit 0's requests need their context: the model learned the bias on part of its images.
    expect(dependent).toBeGreaterThanOrEqual(5)
    expect(dependent).toBeLessThan(n)
    // No collapse: every empty mask is on a request whose score survives the removal of all context.
    expect(grid.collapsed[0]).toBe(0)
    const empty = Math.round(grid.emptyShare[0]! * n)
    expect(empty).toBeGreaterThan(0)
    expect(empty).toBeLessThanOrEqual(n - dependent)
    // Where context is needed, it is the bias tile.
    expect(grid.mcblDependentImages).toBe(dependent)
    expect(grid.mcblDependent!).toBeGreaterThanOrEqual(DETECTION_MIN_MCBL)
    expect(readFileSync(result.files.verdicts!, 'utf8')).toContain('0 empty (collapsed) where the score needed context')
  })

  it("grid saliency's mCBD for digit 0 stands above the unbiased model's on the same images", () => {
    const cbd = result.methods.find((m) => m.method === 'context')!.cbd
    expect(at(cbd, '0', 0)!).toBeGreaterThan(at(cbd, 'N', 0)!)
  })
})
