import { defineConfig } from 'vitest/config'

// End-to-end: the built app in browser mode, driven through Debian's Chromium. The global setup builds the app
// unless out/ is already built from the current sources (the unit tests that spawn the CLI may have built it).
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.e2e.test.ts'],
    globalSetup: ['test/e2e/globalSetup.ts'],
    environment: 'node',
    testTimeout: 180_000,
    hookTimeout: 180_000,
    fileParallelism: false
  }
})
