// @vitest-environment happy-dom
import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import type { ExplanationView } from '@common/methods/viewer'
import type { ClassDef } from '@common/types'
import RequestPanel from '@renderer/components/viewer/RequestPanel.vue'
import { describeShownRequest, segmentPair } from '@renderer/viewer/requestDescription'

const classes: ClassDef[] = [
  { id: 6, name: 'person', color: [220, 20, 60] },
  { id: 7, name: 'rider', color: [255, 0, 0] }
]
const rider = { id: 12, kind: 'misclassified', gtClass: 7, predClass: 6 }
const shown = (segmentId: number | null) =>
  ({ id: 3, segmentId, classId: 7, method: 'context', request: [10, 300, 400, 10], summary: {} }) as unknown as ExplanationView

describe('describing the request', () => {
  it('names a segment by its ground truth and predicted class, when it has both', () => {
    expect(segmentPair(rider, classes)).toBe('rider → person (misclassified)')
    expect(segmentPair({ ...rider, predClass: null }, classes)).toBeNull()
    expect(segmentPair(undefined, classes)).toBeNull()
  })

  it("describes the shown explanation's request by its segment and area, or as drawn", () => {
    expect(describeShownRequest(shown(12), [rider], classes)).toEqual({ id: 3, text: 'segment #12, 310 px', pair: 'rider → person (misclassified)', className: 'rider' })
    expect(describeShownRequest(shown(null), [rider], classes)).toEqual({ id: 3, text: 'drawn mask or several segments, 310 px', pair: null, className: 'rider' })
  })
})

describe('the request panel of the image view', () => {
  const mountPanel = (props: Partial<InstanceType<typeof RequestPanel>['$props']>) =>
    mount(RequestPanel, { props: { requestClass: 7, editing: null, shown: null, classes, ...props } })

  it('describes the request being edited before the shown explanation', () => {
    const info = (w: ReturnType<typeof mountPanel>) => w.get('[data-testid="request-info"]').text().replace(/\s+/g, ' ')
    const both = mountPanel({ editing: { drawn: false, segments: 1, area: 104, pair: 'rider → person (misclassified)' }, shown: describeShownRequest(shown(12), [rider], classes) })
    expect(info(both)).toBe('1 segment, 104 px · rider → person (misclassified)')
    const drawn = mountPanel({ editing: { drawn: true, segments: 1, area: 400, pair: 'rider → person (misclassified)' } })
    expect(info(drawn)).toBe('Drawn mask, 400 px')
    const onlyShown = mountPanel({ shown: describeShownRequest(shown(12), [rider], classes) })
    expect(info(onlyShown)).toBe('Explanation #3 of rider: segment #12, 310 px · rider → person (misclassified)')
    expect(onlyShown.text()).toContain('Outlined in blue')
    expect(mountPanel({}).find('[data-testid="request-info"]').exists()).toBe(false)
  })

  it('hands the chosen class to its parent', async () => {
    const w = mountPanel({})
    await w.get('[data-testid="request-class"]').setValue('6')
    expect(w.emitted('update:requestClass')).toEqual([[6]])
  })
})
