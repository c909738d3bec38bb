import { describe, expect, it } from 'vitest'
import { errorsStateFromQuery, queryFromErrorsState } from '@renderer/components/errors/errorsQuery'

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
})
