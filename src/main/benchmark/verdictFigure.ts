import * as echarts from 'echarts'
import { BIAS_LEARNED_IOU_DROP, VERDICT_LABELS, VERDICTS, type ModelVerdict, type Verdict } from '@common/benchmark'

const COLOURS: Record<Verdict, string> = {
  'learned-detected': '#1a9850',
  'learned-missed': '#d73027',
  'not-learned': '#878787',
  undetermined: '#fdae61'
}

/**
 * One point per biased model: x = the biased digit's IoU drop against the unbiased model of its seed (right of the
 * dashed line: the bias was learned), y = grid saliency's margin, the biased digit's mCBD minus the highest other
 * digit's (above 0: the diagonal tops its row); colour = the verdict, which also needs mCBL ≥ 0.8. A point in the
 * lower right is a bias the model learned and the method missed.
 */
export function verdictSvg(verdicts: ModelVerdict[]): string {
  const points = verdicts.map((v) => {
    const grid = v.methods.find((m) => m.method === 'context')
    const d = grid?.mcbd[v.biasedDigit] ?? null
    const margin = d !== null && grid?.mcbdOthersMax !== null && grid?.mcbdOthersMax !== undefined ? d - grid.mcbdOthersMax : d
    return { v, x: v.iouDrop, y: margin }
  })
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width: 640, height: 440 })
  try {
    chart.setOption({
      animation: false,
      backgroundColor: '#ffffff',
      title: { text: 'Per model: was the bias learned, did grid saliency find it?', left: 10, top: 6, textStyle: { fontSize: 14 } },
      legend: { top: 30, left: 10, itemGap: 40, data: VERDICTS.map((k) => VERDICT_LABELS[k]) },
      grid: { left: 70, right: 30, top: 70, bottom: 60 },
      xAxis: { type: 'value', name: "biased digit's IoU drop vs the unbiased model", nameLocation: 'middle', nameGap: 30, min: -0.2, max: 1 },
      yAxis: {
        type: 'value',
        name: 'grid saliency mCBD: biased − highest other',
        nameLocation: 'middle',
        nameGap: 50,
        // Room on both sides of 0, the line a detection must clear.
        min: (v: { min: number }) => Math.min(v.min, 0) - 0.05,
        max: (v: { max: number }) => Math.max(v.max, 0) + 0.05
      },
      series: VERDICTS.map((k, i) => ({
        name: VERDICT_LABELS[k],
        type: 'scatter',
        symbolSize: 9,
        itemStyle: { color: COLOURS[k] },
        label: { show: true, position: 'right', fontSize: 9, formatter: (p: { data: [number, number, string] }) => p.data[2] },
        data: points.filter((p) => p.v.verdict === k && p.x !== null && p.y !== null).map((p) => [p.x, p.y, p.v.name]),
        ...(i === 0
          ? {
              markLine: {
                silent: true,
                symbol: 'none',
                lineStyle: { type: 'dashed', color: '#555' },
                label: { show: false },
                data: [{ xAxis: BIAS_LEARNED_IOU_DROP }, { yAxis: 0 }]
              }
            }
          : {})
      }))
    })
    return chart.renderToSVGString()
  } finally {
    chart.dispose()
  }
}
