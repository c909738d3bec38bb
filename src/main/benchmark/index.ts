export { listPresets, parseBenchmarkConfig, presetConfig, readBenchmarkConfig, configHash, planModels, withSanityCheck } from './config'
export { runBenchmark, type BenchmarkProgress, type RunBenchmarkOptions } from './runner'
export { benchmarkPhaseCount, runDirFor } from './plan'
export {
  BENCHMARK_JOB_KIND,
  benchmarkJobParams,
  benchmarkJobParamsFor,
  benchmarkJobSubject,
  createBenchmarkJob,
  readBenchmarkResult,
  runBenchmarkJob,
  sameBenchmarkConfig,
  type BenchmarkJobOutcome
} from './jobs'
export { committedModelsRoot } from './committedModels'
export { sanitySummaryLine, summaryText } from './output'
