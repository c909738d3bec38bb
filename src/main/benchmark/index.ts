export { listPresets, parseBenchmarkConfig, presetConfig, readBenchmarkConfig, configHash, planModels, withSanityCheck } from './config'
export { runBenchmark, runDirFor, type BenchmarkProgress, type RunBenchmarkOptions } from './runner'
export { committedModelsRoot } from './models'
export { sanitySummaryLine, summaryText } from './output'
