import { resolve } from 'node:path'
import { defineConfig } from 'electron-vite'
import vue from '@vitejs/plugin-vue'

const alias = {
  '@common': resolve(import.meta.dirname, 'src/common'),
  '@main': resolve(import.meta.dirname, 'src/main'),
  '@renderer': resolve(import.meta.dirname, 'src/renderer/src')
}

export default defineConfig({
  main: {
    resolve: { alias },
    build: {
      rollupOptions: {
        // One build serves the Electron window, browser mode, the CLI and the engine's worker threads.
        input: {
          index: resolve(import.meta.dirname, 'src/main/index.ts'),
          server: resolve(import.meta.dirname, 'src/main/server.ts'),
          cli: resolve(import.meta.dirname, 'src/main/cli.ts'),
          'engine-worker': resolve(import.meta.dirname, 'src/main/engine/pool/worker.ts'),
          // Registered engine handlers (src/main/engineHandlers.ts): each worker imports them by path.
          'saliency-handler': resolve(import.meta.dirname, 'src/main/saliency/handler.ts')
        }
      }
    }
  },
  preload: {
    resolve: { alias },
    build: {
      // A sandboxed preload can require nothing but electron: bundle zod and our contract into one CommonJS file.
      externalizeDeps: false,
      isolatedEntries: true,
      rollupOptions: {
        external: ['electron'],
        output: { format: 'cjs', entryFileNames: '[name].cjs' }
      }
    }
  },
  renderer: {
    resolve: { alias },
    plugins: [vue()]
  }
})
