import { describe, expect, it } from 'vitest'
import { saliencyParams, type SaliencyResult } from '@common/saliency'
import { explanationRecord } from '@main/jobs/explainSegment'

/**
 * The stored record the image screen and audits now build in one place. Its two summary shapes are what the
 * explanations list (the screen's: every number of the result) and the audit statistics (an item's: the segment's
 * classes beside the scores) read, so each shape is pinned here field by field.
 */
const params = saliencyParams('grid', 'synthetic')
const result: SaliencyResult = {
  method: 'grid',
  classId: 2,
  imageHeight: 4,
  imageWidth: 4,
  maskHeight: 2,
  maskWidth: 2,
  mask: Float32Array.from([0.1, 0.2, 0.3, 0.4]),
  upsampled: new Float32Array(16).fill(0.5),
  scoreOriginal: 0.9,
  scorePerturbed: 0.8,
  preservation: 0.1,
  maskL1: 1,
  maskTerm: 0.05,
  recovered: true,
  lossCurve: [1, 0.5],
  stepsRun: 2,
  stoppedEarly: false,
  timeMs: 12,
  batchTimeMs: 24,
  batchSize: 2,
  params
}
const request = Uint8Array.from([0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0])

describe('explanationRecord', () => {
  it("stores the image screen's run with every number of the result and no job", () => {
    const r = explanationRecord({ imageId: 3, modelId: 4, segmentId: null, classId: 7, request, preset: 'cityscapes' }, result)
    expect(r).not.toHaveProperty('jobId')
    expect(r).toMatchObject({ imageId: 3, modelId: 4, segmentId: null, method: 'grid', classId: 7, saliencyHeight: 2, saliencyWidth: 2 })
    // The low-resolution mask is stored; the upsampled one is derived again on reading.
    expect(r.saliency).toBe(result.mask)
    expect(r.request).toBe(request)
    expect(r.params).toEqual({ ...params, preset: 'cityscapes' })
    const { mask: _m, upsampled: _u, params: _p, ...numbers } = result
    expect(r.summary).toEqual(numbers)
    expect(Object.keys(r.summary)).not.toContain('mask')
  })

  it("stores an audit's item under its job, with the segment's classes beside the scores", () => {
    const r = explanationRecord(
      {
        imageId: 3,
        modelId: 4,
        segmentId: 9,
        classId: 7,
        request,
        preset: 'synthetic',
        job: { jobId: 5, itemKey: 'segment:9' },
        audited: { kind: 'misclassified', gtClass: 7, predClass: 1, area: 4 }
      },
      { ...result, faithfulness: undefined }
    )
    expect(r).toMatchObject({ segmentId: 9, jobId: 5, jobItemKey: 'segment:9', classId: 7 })
    expect(r.summary).toStrictEqual({
      kind: 'misclassified',
      gtClass: 7,
      predClass: 1,
      area: 4,
      scoreOriginal: 0.9,
      scorePerturbed: 0.8,
      preservation: 0.1,
      maskL1: 1,
      recovered: true,
      faithfulness: null,
      stepsRun: 2,
      timeMs: 12
    })
    // Key order is the stored JSON's order.
    expect(Object.keys(r.summary)).toEqual(['kind', 'gtClass', 'predClass', 'area', 'scoreOriginal', 'scorePerturbed', 'preservation', 'maskL1', 'recovered', 'faithfulness', 'stepsRun', 'timeMs'])
  })
})
