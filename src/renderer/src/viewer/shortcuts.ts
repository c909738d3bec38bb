import { onBeforeUnmount, onMounted } from 'vue'
import type { Tool } from './requestEditor'

/** Single-key shortcuts of the image view (plain keys: they act only while focus is outside text fields). */
export const IMAGE_SHORTCUTS = [
  { key: 'v', label: 'Pick segments (shift-click adds)' },
  { key: 'b', label: 'Brush: paint the request' },
  { key: 'e', label: 'Eraser' },
  { key: 'l', label: 'Polygon: click corners, Enter or double-click closes' },
  { key: 'h', label: 'Pan (or hold Space and drag)' },
  { key: 'g', label: 'Ground truth overlay on/off' },
  { key: 'p', label: 'Prediction overlay on/off' },
  { key: 's', label: 'Saliency overlay on/off' },
  { key: 'r', label: 'Run the explanation' },
  { key: 'Esc', label: 'Clear the request' },
  { key: 'z', label: 'Zoom to the request' },
  { key: '+ / − / 0 / 1', label: 'Zoom in, out, fit, 100 % (canvas focused; or the mouse wheel)' }
] as const

const TOOL_KEYS: Record<string, Tool> = { v: 'pick', b: 'brush', e: 'eraser', l: 'polygon', h: 'pan' }

/** What the image view's keys do; the view supplies them, this module keeps them beside their help text above. */
export interface ImageShortcutActions {
  /** Keys act only while an image is shown. */
  active: () => boolean
  setTool: (tool: Tool) => void
  toggleGt: () => void
  togglePred: () => void
  toggleSaliency: () => void
  run: () => void
  zoomToRequest: () => void
  /** Enter belongs to the polygon only while one is being drawn; otherwise it is left to the focused control. */
  drawingPolygon: () => boolean
  closePolygon: () => void
  clearRequest: () => void
}

/** Handles one key press; true when it was a shortcut (and its default is prevented). */
export function handleImageShortcut(e: KeyboardEvent, a: ImageShortcutActions): boolean {
  const target = e.target as HTMLElement | null
  if (!a.active() || e.altKey || e.ctrlKey || e.metaKey || (target && ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName))) return false
  if (TOOL_KEYS[e.key]) a.setTool(TOOL_KEYS[e.key])
  else if (e.key === 'g') a.toggleGt()
  else if (e.key === 'p') a.togglePred()
  else if (e.key === 's') a.toggleSaliency()
  else if (e.key === 'r') a.run()
  else if (e.key === 'z') a.zoomToRequest()
  else if (e.key === 'Enter' && a.drawingPolygon()) a.closePolygon()
  else if (e.key === 'Escape') a.clearRequest()
  else return false
  e.preventDefault()
  return true
}

/** The image view's keys on the window, for as long as the view is mounted. */
export function useImageShortcuts(actions: ImageShortcutActions): void {
  const onKey = (e: KeyboardEvent) => void handleImageShortcut(e, actions)
  onMounted(() => window.addEventListener('keydown', onKey))
  onBeforeUnmount(() => window.removeEventListener('keydown', onKey))
}
