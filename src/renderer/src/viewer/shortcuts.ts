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
