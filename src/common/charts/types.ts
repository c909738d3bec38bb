import type { EChartsOption } from 'echarts'

/**
 * One chart of the audit statistics as both the Reports screen and the PDF draw it: the ECharts option plus the
 * size it was laid out for (bar charts grow with their number of categories), so screen and paper agree.
 */
export interface ReportChart {
  /** Stable within one set of statistics, e.g. `context-7`. */
  key: string
  title: string
  /** One sentence on how to read it, printed under the chart in the PDF and beside it on screen. */
  caption: string
  option: EChartsOption
  width: number
  height: number
}

/** Series colours: saliency in the paper's red, the uniform contour ring in grey, Table 1's rows in a fixed order. */
export const COLOURS = {
  saliency: '#d62728',
  baseline: '#9a9a9a',
  density: '#1f77b4',
  lift: '#ff7f0e',
  threshold: '#555555',
  rows: ['#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22', '#7f7f7f']
} as const

/** The width charts are laid out for (the PDF's text column in points; the screen scales it). */
export const CHART_WIDTH = 495
