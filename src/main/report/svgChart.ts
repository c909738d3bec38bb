import * as echarts from 'echarts'
import type { ReportChart } from '@common/charts'
import { pdfText } from './pdfText'

/**
 * ECharts gives labels a white halo drawn under the glyphs (paint-order="stroke"). svg-to-pdfkit ignores
 * paint-order and strokes over the fill, which hides the digits; on paper the labels need no halo.
 */
function withoutTextHalos(svg: string): string {
  return svg.replace(/<text\b[^>]*>/g, (tag) =>
    tag.includes('paint-order="stroke"') ? tag.replace(/\s(?:stroke|stroke-width|stroke-miterlimit|paint-order)="[^"]*"/g, '') : tag
  )
}

/** svg-to-pdfkit sizes a drawing by its root width/height, not by the box it is given; scaling goes through them (the viewBox keeps the layout). */
function scaledTo(svg: string, scale: number): string {
  if (scale === 1) return svg
  return svg.replace(/<svg\b[^>]*>/, (root) =>
    root.replace(/\s(width|height)="([\d.]+)"/g, (_, attr: string, v: string) => ` ${attr}="${(Number(v) * scale).toFixed(2)}"`)
  )
}

/**
 * A chart definition rendered as the Reports screen renders it (ECharts, SVG renderer), but server-side: no DOM,
 * laid out at the definition's size and drawn at `scale`. Text is made WinAnsi-safe because svg-to-pdfkit draws it
 * with a standard font.
 */
export function chartSvg(chart: ReportChart, scale = 1): string {
  const instance = echarts.init(null, null, { renderer: 'svg', ssr: true, width: chart.width, height: chart.height })
  try {
    instance.setOption(chart.option)
    return pdfText(scaledTo(withoutTextHalos(instance.renderToSVGString()), scale))
  } finally {
    instance.dispose()
  }
}
