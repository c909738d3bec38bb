import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import * as echarts from 'echarts'
import sharp from 'sharp'
import type { BenchmarkResult, BiasMatrixData, SanityCheck } from '@common/benchmark'
import { verdictSvg } from './verdictFigure'

export interface Panel {
  title: string
  matrix: BiasMatrixData
}

/** Rows that hold at least one value: a quick run has rows N and 2, not eleven mostly empty rows. */
export function filledRows(panels: Panel[]): number[] {
  const rows = panels[0].matrix.rowLabels.map((_, i) => i)
  return rows.filter((i) => panels.some((p) => p.matrix.values[i].some((v) => v !== null)))
}

const PANEL_W = 300
const CELL_H = 26

/**
 * One Fig. 4 heatmap figure as SVG (ECharts' server-side renderer): one panel per method (or one for IoU), rows
 * = the digit a model was biased towards (N = no bias), columns = the digit measured, cell text = the value.
 * Every panel of a figure shares one colour scale so methods can be compared by eye.
 */
export function heatmapSvg(title: string, panels: Panel[], range: [number, number]): string {
  const rows = filledRows(panels)
  const rowLabels = rows.map((i) => panels[0].matrix.rowLabels[i])
  const columns = panels[0].matrix.columnLabels
  const top = 60
  const height = top + Math.max(rows.length, 1) * CELL_H + 90
  // Room for the row labels left of each panel: "2 strong" needs more than "2" (about 6 px a character at 12 px).
  const labelW = Math.max(20, ...rowLabels.map((l) => l.length * 6.5)) + 10
  const gap = labelW + 20
  const width = panels.length * (PANEL_W + gap) + 30
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height })
  try {
    const grids = panels.map((_, k) => ({ left: gap + 10 + k * (PANEL_W + gap), top, width: PANEL_W, height: rows.length * CELL_H }))
    chart.setOption({
      animation: false,
      backgroundColor: '#ffffff',
      title: [
        { text: title, left: 10, top: 6, textStyle: { fontSize: 14 } },
        ...panels.map((p, k) => ({ text: p.title, left: grids[k].left, top: 32, textStyle: { fontSize: 12, fontWeight: 'normal' } }))
      ],
      grid: grids,
      xAxis: panels.map((_, k) => ({ type: 'category', data: columns, gridIndex: k, position: 'bottom', name: 'digit', nameLocation: 'middle', nameGap: 22, splitArea: { show: true } })),
      yAxis: panels.map((_, k) => ({ type: 'category', data: rowLabels, gridIndex: k, inverse: true, name: k === 0 ? 'bias' : '', nameLocation: 'middle', nameGap: labelW, splitArea: { show: true } })),
      visualMap: {
        min: range[0],
        max: range[1],
        calculable: false,
        orient: 'horizontal',
        left: gap + 10,
        bottom: 4,
        itemHeight: 120,
        text: [range[1].toFixed(2), range[0].toFixed(2)],
        inRange: { color: ['#f7fbff', '#6baed6', '#08306b'] }
      },
      series: panels.map((p, k) => ({
        type: 'heatmap',
        xAxisIndex: k,
        yAxisIndex: k,
        data: rows.flatMap((i, r) => p.matrix.values[i].map((v, j) => (v === null ? null : [j, r, v])).filter((x) => x !== null)),
        label: { show: true, fontSize: 9, formatter: (x: { value: [number, number, number] }) => x.value[2].toFixed(2) }
      }))
    })
    return chart.renderToSVGString()
  } finally {
    chart.dispose()
  }
}

const LINE_COLOURS = ['#d62728', '#1f77b4', '#2ca02c', '#9467bd', '#8c564b']

/**
 * The cascade as Adebayo et al. (2018) draw it: mean Spearman correlation with the trained model's masks (y)
 * against how much of the model is re-initialised (x, from the output down), one line per method, starting at 1 for
 * the trained model itself, with the threshold a method must fall below.
 */
export function sanitySvg(s: SanityCheck): string {
  const stages = ['trained model', ...s.stages.map((st) => `${st.label} (${st.layers}/${s.totalLayers})`)]
  const values = s.methods.flatMap((m) => m.stages.map((st) => st.spearman.mean ?? 0))
  const lo = Math.min(0, Math.floor(Math.min(...values, 0) * 10) / 10)
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width: 640, height: 380 })
  try {
    chart.setOption({
      animation: false,
      backgroundColor: '#ffffff',
      title: {
        text: 'Sanity check: masks vs the trained model as layers are re-initialised',
        subtext: `${s.model.name}, n = ${s.requests.length} requests; mean Spearman of |mask| over the context cells`,
        left: 10,
        top: 6,
        textStyle: { fontSize: 14 },
        subtextStyle: { fontSize: 11 }
      },
      legend: { bottom: 4, itemGap: 24, textStyle: { fontSize: 11 } },
      grid: { left: 60, right: 30, top: 70, bottom: 70 },
      xAxis: { type: 'category', data: stages, name: 're-initialised', nameLocation: 'middle', nameGap: 26, axisLabel: { fontSize: 10 } },
      yAxis: { type: 'value', min: lo, max: 1, name: 'Spearman', nameLocation: 'middle', nameGap: 40 },
      series: s.methods.map((m, k) => ({
        type: 'line',
        name: m.verdict === 'fails' ? `${m.label} (fails)` : m.label,
        color: LINE_COLOURS[k % LINE_COLOURS.length],
        data: [1, ...m.stages.map((st) => (st.spearman.mean === null ? null : Number(st.spearman.mean.toFixed(4))))],
        symbolSize: 7,
        ...(k === 0
          ? { markLine: { silent: true, symbol: 'none', lineStyle: { type: 'dashed', color: '#555' }, label: { position: 'insideEndTop', formatter: `threshold ${s.threshold}` }, data: [{ yAxis: s.threshold }] } }
          : {})
      }))
    })
    return chart.renderToSVGString()
  } finally {
    chart.dispose()
  }
}

function maxOf(panels: Panel[]): number {
  let m = 0
  for (const p of panels) for (const row of p.matrix.values) for (const v of row) if (v !== null && v > m) m = v
  return m > 0 ? m : 1
}

/** Fig. 4 (a) IoU, (b) mCBD and (c) mCBL as SVG and PNG; returns the files written. */
export async function writeFigures(r: BenchmarkResult, dir: string): Promise<string[]> {
  await mkdir(dir, { recursive: true })
  const figures: { name: string; svg: string }[] = [
    { name: 'fig4a-iou', svg: heatmapSvg('(a) IoU on the unbiased test set', [{ title: 'U-Net', matrix: r.iou }], [0, 1]) }
  ]
  if (r.methods.length) {
    const cbd = r.methods.map((m) => ({ title: m.label, matrix: m.cbd }))
    const cbl = r.methods.map((m) => ({ title: m.label, matrix: m.cbl }))
    figures.push({ name: 'fig4b-mcbd', svg: heatmapSvg('(b) mCBD: context bias detection', cbd, [0, maxOf(cbd)]) })
    figures.push({ name: 'fig4c-mcbl', svg: heatmapSvg('(c) mCBL: context bias localisation', cbl, [0, 1]) })
  }
  if (r.verdicts.length) figures.push({ name: 'verdicts', svg: verdictSvg(r.verdicts) })
  if (r.sanity?.methods.length) figures.push({ name: 'sanity-cascade', svg: sanitySvg(r.sanity) })
  const files: string[] = []
  for (const f of figures) {
    const svgPath = join(dir, `${f.name}.svg`)
    const pngPath = join(dir, `${f.name}.png`)
    await writeFile(svgPath, f.svg)
    await sharp(Buffer.from(f.svg), { density: 144 }).png().toFile(pngPath)
    files.push(svgPath, pngPath)
  }
  return files
}
