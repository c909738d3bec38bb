/**
 * The audit statistics as charts and tables: pure functions from AuditStats to ECharts options and text tables,
 * used by the Reports screen (ECharts in the browser, SVG renderer) and by the PDF (ECharts server-side SVG), so
 * the report and the screen show the same thing.
 */
export { alertStrength, biasAlertsChart, rankAlerts } from './alerts'
export { contextDistributionChart, densityLiftChart, MAX_BARS, table1Chart } from './context'
export { evidenceShort, evidenceText, exampleLabel, isThin, partialLabel, partialNote, partialText, segmentLabel, THIN_MARK, thinNote, type EvidenceBar } from './evidence'
export { count, fixed, MIN_PERCENT_BASE, percent, proportion, round } from './format'
export { alertEvidence, alertLabel, alertsTable, contextTable, presentContext, table1Label, table1Rows, table1Table, type ReportTable } from './tables'
export { CHART_WIDTH, COLOURS, type ReportChart } from './types'
