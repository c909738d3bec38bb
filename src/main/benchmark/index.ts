export { listPresets, parseBenchmarkConfig, presetConfig, readBenchmarkConfig, configHash, planModels } from './config'
export { runBenchmark, runDirFor, type BenchmarkProgress, type RunBenchmarkOptions } from './runner'
export { committedModelsRoot } from './models'
export { summaryText } from './output'
