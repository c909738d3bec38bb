import { describe, expect, it } from 'vitest'
import { compactCount, count, fixed, formatEta, formatRate, percent } from '@renderer/format'

describe('numbers on screen', () => {
  it('writes shares as percents with a space before the sign, and a dash for what is missing', () => {
    expect([percent(0.688), percent(1), percent(0.123, 0), percent(null), percent(undefined), percent(NaN)]).toEqual(['68.8 %', '100.0 %', '12 %', '—', '—', '—'])
    expect([fixed(0.12345, 3), fixed(2, 2), fixed(null, 2)]).toEqual(['0.123', '2.00', '—'])
  })

  it('puts the noun in the plural for every count but one', () => {
    expect([count(0, 'image'), count(1, 'image'), count(2, 'stored segment'), count(3, 'class', 'classes')]).toEqual(['0 images', '1 image', '2 stored segments', '3 classes'])
  })

  it('shortens pixel counts to fit a matrix cell', () => {
    expect([0, 999, 1000, 12_345, 123_456, 4_560_000, 45_600_000].map(compactCount)).toEqual(['0', '999', '1.00k', '12.3k', '123k', '4.56M', '45.6M'])
  })

  it('reads an ETA and a rate at a glance', () => {
    expect([42, 185, 7620, -1, null].map(formatEta)).toEqual(['42s', '3m 05s', '2h 07m', '—', '—'])
    expect([12.4, 3.14, undefined].map(formatRate)).toEqual(['12/s', '3.1/s', '—'])
  })
})
