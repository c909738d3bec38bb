import { describe, expect, it } from 'vitest'
import { isAppError } from '../../src/common/errors'
import {
  CLASS_PRESETS,
  normalisationText,
  parseClassesCsv,
  parseClassesJson,
  parseDescriptionFlags,
  parseInputSize,
  parseNormalisation,
  vocColor
} from '../../src/common/modelDescription'
import { normalisationAffine } from '../../src/common/modelSidecar'

function errorOf(fn: () => unknown): { code: string; message: string } {
  try {
    fn()
  } catch (err) {
    if (isAppError(err)) return { code: err.code, message: err.message }
    throw err
  }
  throw new Error('expected an AppError')
}

describe('class presets', () => {
  it('cityscapes has the 19 train ids with the official names and colours', () => {
    const c = CLASS_PRESETS.cityscapes.classes
    expect(c).toHaveLength(19)
    expect(c.map((x) => x.id)).toEqual([...Array(19).keys()])
    expect(c[0]).toEqual({ id: 0, name: 'road', color: [128, 64, 128] })
    expect(c[6]).toEqual({ id: 6, name: 'traffic light', color: [250, 170, 30] })
    expect(c[11]).toEqual({ id: 11, name: 'person', color: [220, 20, 60] })
    expect(c[18]).toEqual({ id: 18, name: 'bicycle', color: [119, 11, 32] })
    expect(CLASS_PRESETS.cityscapes.ignoreId).toBe(255)
  })

  it('voc has 21 classes with the VOCdevkit palette', () => {
    const c = CLASS_PRESETS.voc.classes
    expect(c).toHaveLength(21)
    // Colours from VOCdevkit's labelcolormap, written out by hand.
    expect(c[0]).toEqual({ id: 0, name: 'background', color: [0, 0, 0] })
    expect(c[1].color).toEqual([128, 0, 0])
    expect(c[2].color).toEqual([0, 128, 0])
    expect(c[15]).toEqual({ id: 15, name: 'person', color: [192, 128, 128] })
    expect(c[20]).toEqual({ id: 20, name: 'tvmonitor', color: [0, 64, 128] })
    expect(vocColor(255)).toEqual([224, 224, 192])
  })
})

describe('class lists from files', () => {
  it('reads a JSON array of names as ids in order', () => {
    const c = parseClassesJson('["background", "cat", "dog"]', 'c.json')
    expect(c.map((x) => [x.id, x.name])).toEqual([[0, 'background'], [1, 'cat'], [2, 'dog']])
    expect(c[1].color).toEqual(vocColor(1))
  })

  it('reads {id, name, color} objects with hex or array colours', () => {
    const c = parseClassesJson('[{"id": 3, "name": "road", "color": "#804080"}, {"id": 7, "name": "car", "color": [0, 0, 142]}, {"id": 9, "name": "sky"}]', 'c.json')
    expect(c).toEqual([
      { id: 3, name: 'road', color: [128, 64, 128] },
      { id: 7, name: 'car', color: [0, 0, 142] },
      { id: 9, name: 'sky', color: vocColor(9) }
    ])
  })

  it('names the file and entry of a malformed class', () => {
    expect(errorOf(() => parseClassesJson('{"a": 1}', 'my.json'))).toMatchObject({ code: 'INVALID_PARAMETERS', message: expect.stringContaining('my.json: expected an array') })
    expect(errorOf(() => parseClassesJson('["a"]', 'my.json')).message).toContain('at least 2 classes')
    expect(errorOf(() => parseClassesJson('[{"id": 1, "name": "a"}, {"id": 1, "name": "b"}]', 'my.json')).message).toContain('entries 0 and 1 both have id 1')
    expect(errorOf(() => parseClassesJson('[{"id": -1, "name": "a"}, "b"]', 'my.json')).message).toContain('entry 0: the id is not an integer from 0 to 65535')
    expect(errorOf(() => parseClassesJson('[{"id": 0, "name": "a", "color": "red"}, "b"]', 'my.json')).message).toContain('entry 0: the colour is not #rrggbb')
    expect(errorOf(() => parseClassesJson('[not json', 'my.json')).message).toMatch(/my\.json: the file is not valid JSON/)
  })

  it('never quotes the file in its errors: the path may name any file', () => {
    const secret = 'hunter2-secret'
    const cases: [string, () => unknown][] = [
      ['a text file', () => parseClassesJson(`root:${secret}:0:0\n`, '/etc/passwd.json')],
      ['an entry that is no class', () => parseClassesJson(`[7, "${secret}"]`, 'c.json')],
      ['a bad id', () => parseClassesJson(`[{"id": "${secret}", "name": "a"}, "b"]`, 'c.json')],
      ['a bad name', () => parseClassesJson(`[{"id": 0, "name": ["${secret}"]}, "b"]`, 'c.json')],
      ['a bad colour', () => parseClassesJson(`[{"id": 0, "name": "a", "color": "${secret}"}, "b"]`, 'c.json')],
      ['a bad CSV id', () => parseClassesCsv(`0,a\n${secret},b\n`, 'c.csv')]
    ]
    for (const [what, run] of cases) expect(errorOf(run).message, what).not.toContain(secret)
    expect(errorOf(cases[1][1]).message).toContain('entry 0 is a number, neither a name nor')
  })

  it('reads CSV with a header, ids, names and colours', () => {
    const csv = 'id,name,r,g,b\n0,road,128,64,128\n\n# a comment\n1,"car",0,0,142\n'
    expect(parseClassesCsv(csv, 'c.csv')).toEqual([
      { id: 0, name: 'road', color: [128, 64, 128] },
      { id: 1, name: 'car', color: [0, 0, 142] }
    ])
    expect(parseClassesCsv('name\nbackground\nperson\n', 'c.csv').map((c) => c.name)).toEqual(['background', 'person'])
    expect(parseClassesCsv('0,a,#ff0000\n1,b,#00ff00', 'c.csv')[1].color).toEqual([0, 255, 0])
  })

  it('names the CSV line that is malformed', () => {
    expect(errorOf(() => parseClassesCsv('0,a\nx1,b\n', 'c.csv')).message).toContain('line 2: the id (first column) is not')
    expect(errorOf(() => parseClassesCsv('0,a,1,2\n1,b\n', 'c.csv')).message).toContain('line 1: expected')
  })
})

describe('input size and normalisation flags', () => {
  it('parses HxWxC', () => {
    expect(parseInputSize('512x1024x3')).toEqual({ height: 512, width: 1024, channels: 3 })
    expect(parseInputSize('64X64x1')).toEqual({ height: 64, width: 64, channels: 1 })
  })

  it('rejects malformed sizes naming --input', () => {
    for (const bad of ['64x64', 'axbxc', '0x4x3', '64x64x7', '']) {
      const e = errorOf(() => parseInputSize(bad))
      expect(e.code).toBe('INVALID_PARAMETERS')
      expect(e.message).toContain('--input')
    }
  })

  it('maps range:0,1 and range:-1,1 onto the affine map of 8-bit pixels', () => {
    const a = normalisationAffine(parseNormalisation('range:0,1'), 3)
    expect(a.min).toEqual([0, 0, 0])
    expect(a.max[0]).toBeCloseTo(1, 12)
    const b = normalisationAffine(parseNormalisation('range:-1,1'), 1)
    expect(b.min[0]).toBe(-1)
    expect(b.max[0]).toBeCloseTo(1, 12)
  })

  it('imagenet is torchvision\'s Normalize on the 0..1 scale', () => {
    const a = normalisationAffine(parseNormalisation('imagenet'), 3)
    // Pixel 255 in the red channel: (1 - 0.485) / 0.229.
    expect(a.max[0]).toBeCloseTo((1 - 0.485) / 0.229, 6)
    expect(a.min[2]).toBeCloseTo(-0.406 / 0.225, 6)
    expect(normalisationText(parseNormalisation('imagenet'))).toBe('imagenet')
  })

  it('mean/std on the 0..1 scale, and on the 0..255 scale when a mean exceeds 1', () => {
    const unit = normalisationAffine(parseNormalisation('mean:0.5,0.5,0.5,std:0.25,0.25,0.25'), 3)
    expect(unit.min[0]).toBeCloseTo(-2, 9)
    expect(unit.max[0]).toBeCloseTo(2, 9)
    const caffe = normalisationAffine(parseNormalisation('mean:123.675,116.28,103.53,std:58.395,57.12,57.375'), 3)
    expect(caffe.max[0]).toBeCloseTo((255 - 123.675) / 58.395, 6)
  })

  it('rejects each malformed normalisation naming --normalise', () => {
    for (const [bad, why] of [
      ['range:1,0', 'greater than'],
      ['range:0', 'two numbers'],
      ['range:0,x', 'not a comma-separated list'],
      ['mean:0.5,std:0', 'positive'],
      ['mean:0.1,0.2,std:0.1,0.2,0.3', '2 means but 3 stds'],
      ['zscore', 'not a known normalisation']
    ]) {
      const e = errorOf(() => parseNormalisation(bad))
      expect(e.code).toBe('INVALID_PARAMETERS')
      expect(e.message).toContain('--normalise')
      expect(e.message).toContain(why)
    }
  })

  it('takes a preset, a class file or a list for --classes, and names anything else', () => {
    expect(parseDescriptionFlags({ classes: 'Cityscapes' }).classes).toBe(CLASS_PRESETS.cityscapes)
    expect(parseDescriptionFlags({ classes: 'labels.csv' }).classes).toEqual({ file: 'labels.csv' })
    expect(parseDescriptionFlags({ classes: ['a', 'b'] }).classes).toMatchObject({ classes: [{ id: 0, name: 'a' }, { id: 1, name: 'b' }] })
    const e = errorOf(() => parseDescriptionFlags({ classes: 'ade20k' }))
    expect(e.message).toContain('--classes "ade20k" is neither a preset (cityscapes, voc)')
  })
})
