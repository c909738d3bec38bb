import { describe, expect, it } from 'vitest'
import { compactCount, errorsStateFromQuery, queryFromErrorsState } from '@renderer/components/errors/errorsQuery'

describe('error-case screen state in the URL', () => {
  it('reads every choice back as it was written', () => {
    const state = { datasetId: 3, modelId: 2, split: 'val', unit: 'segments' as const, minArea: 16, cell: { gt: 7, pred: 6 }, sort: 'confidence' as const, descending: false }
    const query = queryFromErrorsState(state)
    expect(query).toEqual({ dataset: '3', model: '2', split: 'val', unit: 'segments', min: '16', cell: '7-6', sort: 'confidence', asc: '1' })
    expect(errorsStateFromQuery(query)).toEqual(state)
  })

  it('leaves defaults out of the URL and reads an empty query as the defaults', () => {
    expect(queryFromErrorsState({ unit: 'pixels', minArea: 1, sort: 'area', descending: true })).toEqual({})
    expect(errorsStateFromQuery({})).toEqual({ unit: 'pixels', sort: 'area', descending: true })
  })

  it('drops malformed values instead of failing the page', () => {
    expect(errorsStateFromQuery({ dataset: '0', model: 'x', unit: 'litres', min: '-3', cell: '7-', sort: 'size', asc: 'yes' })).toEqual({ unit: 'pixels', sort: 'area', descending: true })
    expect(errorsStateFromQuery({ cell: ['12-3', '1-1'] }).cell).toEqual({ gt: 12, pred: 3 })
  })

  it('shortens pixel counts to fit a matrix cell', () => {
    expect([0, 999, 1000, 12_345, 123_456, 4_560_000, 45_600_000].map(compactCount)).toEqual(['0', '999', '1.00k', '12.3k', '123k', '4.56M', '45.6M'])
  })
})
