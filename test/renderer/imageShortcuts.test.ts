// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest'
import { handleImageShortcut, IMAGE_SHORTCUTS, type ImageShortcutActions } from '@renderer/viewer/shortcuts'

function actions(over: Partial<ImageShortcutActions> = {}) {
  const done: string[] = []
  const a: ImageShortcutActions = {
    active: () => true,
    setTool: (t) => done.push(`tool ${t}`),
    toggleGt: () => done.push('gt'),
    togglePred: () => done.push('pred'),
    toggleSaliency: () => done.push('saliency'),
    run: () => done.push('run'),
    zoomToRequest: () => done.push('zoom'),
    drawingPolygon: () => false,
    closePolygon: () => done.push('close'),
    clearRequest: () => done.push('clear'),
    ...over
  }
  return { a, done }
}
const press = (key: string, init: KeyboardEventInit = {}, target?: HTMLElement) => {
  const e = new KeyboardEvent('keydown', { key, cancelable: true, ...init })
  if (target) Object.defineProperty(e, 'target', { value: target })
  return e
}

describe("the image view's keys", () => {
  it('do what the help lists, and prevent the default only of what they handle', () => {
    const { a, done } = actions()
    for (const key of ['v', 'b', 'e', 'l', 'h', 'g', 'p', 's', 'r', 'z', 'Escape']) {
      const e = press(key)
      expect(handleImageShortcut(e, a)).toBe(true)
      expect(e.defaultPrevented).toBe(true)
    }
    expect(done).toEqual(['tool pick', 'tool brush', 'tool eraser', 'tool polygon', 'tool pan', 'gt', 'pred', 'saliency', 'run', 'zoom', 'clear'])
    const listed = IMAGE_SHORTCUTS.map((s) => s.key)
    for (const key of ['v', 'b', 'e', 'l', 'h', 'g', 'p', 's', 'r', 'z', 'Esc']) expect(listed).toContain(key)
    const other = press('x')
    expect(handleImageShortcut(other, a)).toBe(false)
    expect(other.defaultPrevented).toBe(false)
  })

  it('leave Enter to the page unless a polygon is being drawn', () => {
    const idle = actions()
    const enter = press('Enter')
    expect(handleImageShortcut(enter, idle.a)).toBe(false)
    expect(enter.defaultPrevented).toBe(false)
    const drawing = actions({ drawingPolygon: () => true })
    expect(handleImageShortcut(press('Enter'), drawing.a)).toBe(true)
    expect(drawing.done).toEqual(['close'])
  })

  it('stay out of text fields, modified keys and a view without an image', () => {
    const { a, done } = actions()
    for (const tag of ['input', 'textarea', 'select']) expect(handleImageShortcut(press('r', {}, document.createElement(tag)), a)).toBe(false)
    expect(handleImageShortcut(press('r', { ctrlKey: true }), a)).toBe(false)
    expect(handleImageShortcut(press('r', { metaKey: true }), a)).toBe(false)
    expect(handleImageShortcut(press('r', { altKey: true }), a)).toBe(false)
    expect(handleImageShortcut(press('r', {}, document.createElement('button')), a)).toBe(true)
    expect(handleImageShortcut(press('r'), actions({ active: () => false }).a)).toBe(false)
    expect(done).toEqual(['run'])
  })
})
