import { execFileSync, spawnSync } from 'node:child_process'
import { copyFileSync, readdirSync } from 'node:fs'
import { basename, join } from 'node:path'
import sharp from 'sharp'
import type { Input, Method, Output } from '../../src/common/contract'
import { AppError } from '../../src/common/errors'
import { ServiceContext } from '../../src/main/services/context'
import { createDispatch } from '../../src/main/services/dispatch'
import { createServices } from '../../src/main/services/index'

/**
 * The services as every adapter sees them, on one engine worker with the wasm backend: the demo's U-Net explains
 * a handful of segments in seconds there (minutes on the plain JS backend).
 */
export function reportTestServices(): { ctx: ServiceContext; call: <M extends Method>(m: M, input: Input<M>) => Promise<Output<M>> } {
  process.env.CTXLENS_WORKERS = '1'
  const ctx = new ServiceContext('cli', { backend: 'wasm' })
  const dispatch = createDispatch(createServices(ctx))
  return {
    ctx,
    call: async (m, input) => {
      const reply = await dispatch(m, input)
      if (!reply.ok) throw AppError.fromShape(reply.error)
      return reply.result as never
    }
  }
}

/** A small demo project: bundled model, a few street scenes, a short context audit of riders and persons. */
export const SMALL_DEMO = { images: 8, sampleSize: 12, params: { steps: 2 } } as const

/**
 * poppler's text of a PDF: `layout` keeps a table row on one line; `raw` keeps the drawing order, so a table cell
 * that wraps stays in one piece. Pages are separated by form feeds.
 */
export function pdfToText(file: string, mode: 'layout' | 'raw' = 'layout'): string {
  return execFileSync('pdftotext', [`-${mode}`, file, '-'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
}

export function pdfPageCount(file: string): number {
  const info = execFileSync('pdfinfo', [file], { encoding: 'utf8' })
  return Number(/^Pages:\s+(\d+)/m.exec(info)?.[1] ?? NaN)
}

/** Every page rendered to PNG by poppler: the files in page order, and what poppler complained about (syntax errors, bad images). */
export function renderPages(file: string, outDir: string, dpi = 30): { pages: string[]; stderr: string } {
  const run = spawnSync('pdftoppm', ['-r', String(dpi), '-png', file, join(outDir, 'page')], { encoding: 'utf8' })
  if (run.status !== 0) throw new Error(`pdftoppm failed (${run.status}): ${run.stderr}`)
  const pages = readdirSync(outDir)
    .filter((f) => /^page-\d+\.png$/.test(f))
    .sort()
    .map((f) => join(outDir, f))
  return { pages, stderr: run.stderr }
}

/** Pixels darker than paper on a rendered page: a page poppler drew blank has none. */
export async function inkedPixels(png: string): Promise<number> {
  const { data, info } = await sharp(png).greyscale().raw().toBuffer({ resolveWithObject: true })
  let n = 0
  for (let i = 0; i < info.width * info.height; i++) if (data[i] < 200) n++
  return n
}

/** With CTXLENS_KEEP_REPORTS=DIR the reports a test writes are copied there, to look at them after the run. */
export function keepForInspection(file: string): void {
  const dir = process.env.CTXLENS_KEEP_REPORTS
  if (dir) copyFileSync(file, join(dir, basename(file)))
}
