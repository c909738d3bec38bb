import { describe, expect, it } from 'vitest'
import { classPair, flag, idList, imageLink, imageTargetFromQuery, positiveInt } from '@renderer/router/query'

describe('URL query helpers', () => {
  it('reads ids, flags, id lists and class pairs, and drops what is malformed', () => {
    expect([positiveInt('12'), positiveInt(['3', '4']), positiveInt('0'), positiveInt('-3'), positiveInt('x'), positiveInt(null)]).toEqual([12, 3, undefined, undefined, undefined, undefined])
    expect([flag('1'), flag('0'), flag('yes'), flag(undefined)]).toEqual([true, false, undefined, undefined])
    expect([idList('0,a,7'), idList('a')]).toEqual([[0, 7], undefined])
    expect([classPair('7-6'), classPair('7-'), classPair(['12-3', '1-1'])]).toEqual([{ gt: 7, pred: 6 }, undefined, { gt: 12, pred: 3 }])
  })

  it('opens the image view on the image, model, segment and explanation its link names', () => {
    const link = imageLink({ imageId: 4, modelId: 2, segmentId: undefined, explanationId: 9 })
    expect(link).toEqual({ path: '/image', query: { id: '4', model: '2', explanation: '9' } })
    expect(imageTargetFromQuery(link.query)).toEqual({ imageId: 4, modelId: 2, segmentId: undefined, explanationId: 9 })
    expect(imageTargetFromQuery({ id: 'x', segment: '0' })).toEqual({ imageId: undefined, modelId: undefined, segmentId: undefined, explanationId: undefined })
  })
})
