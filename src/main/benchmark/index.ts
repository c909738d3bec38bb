export { listPresets, parseBenchmarkConfig, presetConfig, readBenchmarkConfig, configHash, planModels, withSanityCheck } from './config'
export { benchmarkPhaseCount, runBenchmark, runDirFor, type BenchmarkProgress, type RunBenchmarkOptions } from './runner'
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
