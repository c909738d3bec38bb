#!/usr/bin/env node
// `npm run typecheck`: tsc over the Node side and vue-tsc over the renderer, at the same time. Each checker runs on
// one core and the two projects are independent, so on a two-core machine this takes as long as the slower one.
// Each one's output is printed whole when it ends (never interleaved), and the script fails if either fails.
import { spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const checks = [
  ['tsc', join(root, 'node_modules', 'typescript', 'bin', 'tsc'), ['-p', 'tsconfig.node.json', '--noEmit']],
  ['vue-tsc', join(root, 'node_modules', 'vue-tsc', 'bin', 'vue-tsc.js'), ['-p', 'tsconfig.web.json', '--noEmit']]
]

const results = await Promise.all(
  checks.map(
    ([name, bin, args]) =>
      new Promise((resolve) => {
        const child = spawn(process.execPath, [bin, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
        let out = ''
        child.stdout.on('data', (d) => (out += d))
        child.stderr.on('data', (d) => (out += d))
        child.on('error', (err) => resolve({ name, code: 1, out: `${out}${err.message}\n` }))
        child.on('close', (code, signal) => resolve({ name, code: code ?? 1, out: signal ? `${out}killed by ${signal}\n` : out }))
      })
  )
)
for (const r of results) {
  if (r.out) process.stdout.write(r.out)
  if (r.code !== 0) console.error(`${r.name} failed (exit ${r.code})`)
}
process.exit(results.some((r) => r.code !== 0) ? 1 : 0)
