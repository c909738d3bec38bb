import { spawnSync } from 'node:child_process'
import { resolve } from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { describe, expect, it } from 'vitest'

const root = resolve(import.meta.dirname, '../../..')
const BANNER = 'looks like you are running TensorFlow.js in Node.js'

describe('TensorFlow.js start-up chatter', () => {
  it('the engine on the CPU backend computes without printing the tfjs-node banner', () => {
    // A fresh process, as the CLI starts: the banner is printed once per process, on the CPU backend's first tensor.
    const script = `
      import * as tf from '@tensorflow/tfjs'
      import { initBackend } from './src/main/engine/backend.ts'
      const info = await initBackend({ flag: 'cpu' })
      console.log('backend', info.tfBackend, 'sum', tf.sum(tf.tensor([1, 2, 3])).dataSync()[0])
    `
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', timeout: 120_000 })
    expect(r.stderr + r.stdout).not.toContain(BANNER)
    expect(r.stdout).toContain('backend cpu sum 6')
  })

  it('tests run with the banner silenced (vitest setup file)', async () => {
    await tf.setBackend('cpu')
    const printed: string[] = []
    const warn = console.warn
    console.warn = (...args: unknown[]) => void printed.push(args.join(' '))
    try {
      tf.tensor([1, 2, 3]).dispose()
    } finally {
      console.warn = warn
    }
    expect(printed.join('\n')).not.toContain(BANNER)
  })
})
