import { BarChart, LineChart, ScatterChart } from 'echarts/charts'
import { GridComponent, LegendComponent, MarkLineComponent, TooltipComponent } from 'echarts/components'
import { init, use } from 'echarts/core'
import { SVGRenderer } from 'echarts/renderers'

/**
 * Only what the report's chart definitions (src/common/charts) use (the line series names the alert threshold in
 * the legend), on the SVG renderer the PDF uses too, so the screen draws the same vectors the report embeds and
 * the bundle leaves the rest of ECharts out.
 */
use([BarChart, LineChart, ScatterChart, GridComponent, LegendComponent, MarkLineComponent, TooltipComponent, SVGRenderer])

export { init }
