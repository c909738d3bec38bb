/**
 * The parameters that shaped the run: the other optimiser's settings (Adam's betas on an SGD run, SGD's momentum on
 * an Adam run) and the tuning of a disabled early stop are stored with every job but had no effect, and a reader
 * would take them for part of the method.
 */
export function effectiveParams(params: Record<string, unknown>): Record<string, unknown> {
  const { adam, momentum, earlyStop, ...rest } = params as Record<string, unknown> & { earlyStop?: { enabled?: boolean } }
  const out: Record<string, unknown> = { ...rest }
  if (params.optimizer === 'adam' && adam !== undefined) out.adam = adam
  if (params.optimizer === 'sgd' && momentum !== undefined) out.momentum = momentum
  if (earlyStop !== undefined) out.earlyStop = earlyStop.enabled === false ? { enabled: false } : earlyStop
  // Keep the stored order: the optimiser's own settings stand where they were, after `optimizer` and `learningRate`.
  const order = Object.keys(params)
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => order.indexOf(a) - order.indexOf(b)))
}

/** Saliency parameters as report lines: nested settings flattened to `earlyStop.enabled`, objects like the baseline read as one value. */
export function paramLines(params: Record<string, unknown>, prefix = ''): [string, string][] {
  const out: [string, string][] = []
  for (const [key, value] of Object.entries(params)) {
    const name = prefix ? `${prefix}.${key}` : key
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      const v = value as Record<string, unknown>
      if (typeof v.kind === 'string') out.push([name, Object.entries(v).map(([k, x]) => (k === 'kind' ? String(x) : `${k} ${JSON.stringify(x)}`)).join(', ')])
      else out.push(...paramLines(v, name))
    } else out.push([name, Array.isArray(value) ? value.join(' x ') : String(value)])
  }
  return out
}

/** The handful that say what an explanation was: mask size, steps, optimiser, λ, baseline. */
export function keyParams(params: Record<string, unknown>): string {
  const p = params as Record<string, unknown> & { baseline?: { kind?: string; value?: unknown; sigma?: number } }
  const parts: string[] = []
  if (p.maskHeight !== undefined) parts.push(`mask ${p.maskHeight}x${p.maskWidth}`)
  if (p.saliencyHeight !== undefined) parts.push(`map ${p.saliencyHeight}x${p.saliencyWidth}`)
  if (p.steps !== undefined) parts.push(`${p.steps} steps`)
  if (p.optimizer !== undefined) parts.push(`${p.optimizer} lr ${p.learningRate}${p.optimizer === 'sgd' ? ` momentum ${p.momentum}` : ''}`)
  if (p.lambda !== undefined) parts.push(`lambda ${p.lambda}`)
  if (p.init !== undefined) parts.push(`init ${p.init}`)
  if (p.samples !== undefined) parts.push(`${p.samples} samples, sigma ${p.sigma}`)
  if (p.baseline?.kind) parts.push(`${p.baseline.kind} baseline${p.baseline.value !== undefined ? ` ${JSON.stringify(p.baseline.value)}` : ''}${p.baseline.sigma !== undefined ? ` sigma ${p.baseline.sigma}` : ''}`)
  return parts.join(', ')
}
