/**
 * The layering as a test (issue 14): `npm test` runs test/architecture/layers.test.ts, which cruises src/ with
 * these rules and fails on any forbidden import not listed in .dependency-cruiser-known-violations.json. The known
 * ones are debts the structure issue names (the CLI reaching around the service layer); fix one and regenerate
 * the baseline with `npm run layers:baseline`, never add to it by hand.
 *
 * Layers: adapters (Electron IPC, HTTP server, CLI) → services → domain folders (audit, datasets, report, metrics,
 * explain, viewer, benchmark, modelImport) → jobs → {engine, saliency, store} → common. Saliency knows only the
 * model interface (its registered engine handler, the handler seam too); the engine knows no store, saliency,
 * jobs or services; the renderer and the preload know only the contract; only the store opens SQLite.
 */
const ADAPTERS = '^src/main/(adapters/|cli/|cli\\.ts$|server\\.ts$|index\\.ts$)'
const DOMAIN = '^src/main/(jobs|audit|datasets|report|metrics|explain|viewer|benchmark|modelImport|saliency|engine|store)/'

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      // A cycle through type-only imports (the CLI's commands and the program's CommandContext type) runs nothing.
      comment: 'Import cycles make layers meaningless.',
      from: { path: '^src/' },
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } }
    },
    {
      name: 'renderer-only-common',
      severity: 'error',
      comment: 'The renderer is sandboxed: it reaches the main side only through the typed contract in src/common.',
      from: { path: '^src/renderer/' },
      to: { path: '^src/', pathNot: '^src/(renderer|common)/' }
    },
    {
      name: 'preload-only-common-and-electron',
      severity: 'error',
      comment: 'The preload exposes the contract and nothing else.',
      from: { path: '^src/preload/' },
      to: { pathNot: ['^src/(preload|common)/', '^electron$', 'node_modules/electron/'] }
    },
    {
      name: 'common-imports-no-side',
      severity: 'error',
      comment: 'The contract is shared by main, preload and renderer: it may not depend on any of them.',
      from: { path: '^src/common/' },
      to: { path: '^src/(main|renderer|preload)/' }
    },
    {
      name: 'saliency-knows-only-the-model-interface',
      severity: 'error',
      comment: 'The algorithms run on any runtime: they see the SegmentationModel seam, not the engine behind it (and the shared seeded streams and cancellation helpers).',
      from: { path: '^src/main/saliency/', pathNot: '^src/main/saliency/handler\\.ts$' },
      to: { path: '^src/main/', pathNot: ['^src/main/saliency/', '^src/main/engine/segmentationModel\\.ts$', '^src/main/(prng|cancellation)\\.ts$'] }
    },
    {
      name: 'saliency-handler-sees-only-the-handler-seam',
      severity: 'error',
      comment:
        'The saliency handler is registered with the engine (src/main/engineHandlers.ts), which loads it by path: it sees the handler seam (TaskContext, the task protocol), the model interface its context opens and the algorithms, nothing else of the engine.',
      from: { path: '^src/main/saliency/handler\\.ts$' },
      to: {
        path: '^src/main/',
        pathNot: ['^src/main/saliency/', '^src/main/engine/segmentationModel\\.ts$', '^src/main/engine/pool/(handler|protocol)\\.ts$', '^src/main/(prng|cancellation)\\.ts$']
      }
    },
    {
      name: 'engine-knows-no-store-saliency-services',
      severity: 'error',
      comment:
        'The runtime hosts handlers it does not know (src/main/engineHandlers.ts names them; the pool loads them by path) and never touches a project or a job.',
      from: { path: '^src/main/engine/' },
      to: { path: '^src/main/(store|saliency|services|jobs|audit|report|viewer|explain|adapters|cli)/' }
    },
    {
      name: 'jobs-run-on-engine-saliency-store',
      severity: 'error',
      comment:
        'The job runner, its leases and progress, and the explanation core run on the engine, the saliency algorithms and the store (and the neutral class-channel lookup and shared helpers at the top of src/main); a job kind (audit, benchmark) calls them, never the other way round.',
      from: { path: '^src/main/jobs/' },
      to: {
        path: '^src/main/',
        pathNot: ['^src/main/(jobs|engine|saliency|store)/', '^src/main/(classChannels|prng|cancellation)\\.ts$']
      }
    },
    {
      name: 'store-knows-only-common',
      severity: 'error',
      comment: 'The store is the bottom layer of the main side.',
      from: { path: '^src/main/store/' },
      to: { path: '^src/main/', pathNot: '^src/main/store/' }
    },
    {
      name: 'only-the-store-opens-sqlite',
      severity: 'error',
      comment:
        'SQL lives in src/main/store/repositories and Project keeps its connection private; a module that needs several writes to commit together calls project.transaction().',
      from: { path: '^src/', pathNot: '^src/main/store/' },
      to: { path: '(^|/)node_modules/(@types/)?better-sqlite3/' }
    },
    {
      name: 'nothing-below-imports-services-or-adapters',
      severity: 'error',
      comment: 'Services are called by adapters only; a domain module that calls a service inverts the layers.',
      from: { path: DOMAIN },
      to: { path: ['^src/main/services/', ADAPTERS] }
    },
    {
      name: 'adapters-go-through-services',
      severity: 'error',
      comment: 'Electron IPC, the HTTP server and the CLI are thin: they validate, call the service layer and print.',
      from: { path: ADAPTERS },
      to: { path: DOMAIN }
    }
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    // Type-only imports count: a type from a forbidden layer is still a dependency on its shape.
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] }
  }
}
