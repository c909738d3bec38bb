import { describe, expect, it } from 'vitest'
import { ConfusionMatrix } from '@main/metrics'

// Hand-computed: pairs (gt, pred) after dropping the ignored pixel are
// (0,0) (0,1) (1,1) (1,1) (2,2) (2,0) (1,2)
// class 0: TP 1, gt 2, pred 2 → 1/3;  class 1: TP 2, gt 3, pred 3 → 2/4;  class 2: TP 1, gt 2, pred 2 → 1/3.
const gt = [0, 0, 1, 1, 2, 2, 255, 1]
const pred = [0, 1, 1, 1, 2, 0, 0, 2]

describe('IoU from a confusion matrix', () => {
  it('matches a hand-computed example, skipping ignored ground truth', () => {
    const cm = new ConfusionMatrix(3, [255]).add(Uint8Array.from(gt), Uint8Array.from(pred))
    const iou = cm.perClassIoU()
    expect(iou[0]).toBeCloseTo(1 / 3, 12)
    expect(iou[1]).toBeCloseTo(1 / 2, 12)
    expect(iou[2]).toBeCloseTo(1 / 3, 12)
    expect(cm.meanIoU()).toBeCloseTo(7 / 18, 12)
    expect(cm.meanIoU([1, 2])).toBeCloseTo(5 / 12, 12)
    expect(cm.pixelAccuracy()).toBeCloseTo(4 / 7, 12)
  })

  it('accumulates over images and merges to the same counts as one pass', () => {
    const a = new ConfusionMatrix(3, [255]).add(gt.slice(0, 3), pred.slice(0, 3)).add(gt.slice(3), pred.slice(3))
    const b = new ConfusionMatrix(3, [255]).add(gt.slice(0, 5), pred.slice(0, 5))
    b.merge(new ConfusionMatrix(3, [255]).add(gt.slice(5), pred.slice(5)))
    expect(a.meanIoU()).toBeCloseTo(7 / 18, 12)
    expect([...b.counts]).toEqual([...a.counts])
  })

  it('leaves a class absent from both maps undefined and out of the mean', () => {
    const cm = new ConfusionMatrix(4, [255]).add(gt, pred)
    expect(cm.iou(3)).toBeNull()
    expect(cm.meanIoU()).toBeCloseTo(7 / 18, 12)
    expect(new ConfusionMatrix(2).meanIoU()).toBeNull()
    // Predicted but never present: IoU 0, not undefined.
    expect(new ConfusionMatrix(2).add([0, 0], [0, 1]).iou(1)).toBe(0)
  })

  it('rejects ids outside the classes and maps of different sizes', () => {
    expect(() => new ConfusionMatrix(3).add([0, 3], [0, 0])).toThrow(expect.objectContaining({ code: 'UNKNOWN_CLASS_ID' }))
    expect(() => new ConfusionMatrix(3).add([0, 1], [0, 5])).toThrow(expect.objectContaining({ code: 'UNKNOWN_CLASS_ID' }))
    expect(() => new ConfusionMatrix(3).add([0, 1], [0])).toThrow(expect.objectContaining({ code: 'LABEL_SIZE_MISMATCH' }))
  })
})
