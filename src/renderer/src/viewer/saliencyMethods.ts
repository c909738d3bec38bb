import type { ModelView } from '@common/methods/viewer'
import { SALIENCY_PRESET_NAMES, isPerturbationMethod, saliencyParams, type SaliencyMethod, type SaliencyPresetName } from '@common/saliency'

/** How the image view names each method, in the method picker and in an explanation's summary. */
export const METHOD_NAMES: Record<SaliencyMethod, string> = {
  grid: 'Grid saliency',
  context: 'Context saliency',
  vg: 'Vanilla gradient',
  ig: 'Integrated gradients',
  sg: 'SmoothGrad'
}

export interface ParamField {
  key: string
  label: string
}

/** The parameters a user may override for a method: the ones that change its result, not every field of the preset. */
export function paramFields(method: SaliencyMethod): ParamField[] {
  return isPerturbationMethod(method)
    ? [
        { key: 'steps', label: 'Steps' },
        { key: 'lambda', label: 'λ (mask L1)' },
        { key: 'learningRate', label: 'Learning rate' },
        { key: 'maskHeight', label: 'Mask rows' },
        { key: 'maskWidth', label: 'Mask columns' }
      ]
    : [
        ...(method === 'ig' ? [{ key: 'steps', label: 'Steps' }] : []),
        ...(method === 'sg' ? [{ key: 'samples', label: 'Samples' }, { key: 'sigma', label: 'Noise σ' }] : []),
        { key: 'saliencyHeight', label: 'Map rows' },
        { key: 'saliencyWidth', label: 'Map columns' }
      ]
}

/**
 * The overrides as typed into the form, as the numbers a run sends. An empty or non-numeric field is left out, so the
 * preset's value applies.
 */
export function paramsFromOverrides(overrides: Record<string, string>): Record<string, number> {
  const params: Record<string, number> = {}
  for (const [k, v] of Object.entries(overrides)) if (v !== '' && !Number.isNaN(Number(v))) params[k] = Number(v)
  return params
}

/**
 * The preset a model's images start with. The paper's synthetic settings (4×4 mask) suit its grayscale texture-MNIST;
 * photographs and street scenes of any size get its Cityscapes ones (16×32 mask), as the demo's audit does.
 */
export function presetForModel(model: Pick<ModelView, 'input'> | undefined): SaliencyPresetName {
  return (model?.input?.channels ?? 3) === 1 ? 'synthetic' : 'cityscapes'
}

/**
 * A stored explanation's settings as the form holds them, so a run repeats them (an audit's explanation rerun on
 * this screen, with the audit's λ and learning rate instead of the preset's). The preset is the one stored with the
 * explanation (else `fallback`); each form field gets the stored value; `notCarried` names the stored settings the
 * form has no field for that differ from the preset's (a baseline, an initial mask value, ...): a run from the form
 * uses the preset's there, and the screen says so.
 */
export function settingsOf(
  stored: Record<string, unknown>,
  method: SaliencyMethod,
  fallback: SaliencyPresetName
): { preset: SaliencyPresetName; overrides: Record<string, string>; notCarried: string[] } {
  const preset = (SALIENCY_PRESET_NAMES as readonly unknown[]).includes(stored.preset) ? (stored.preset as SaliencyPresetName) : fallback
  const defaults = saliencyParams(method, preset) as unknown as Record<string, unknown>
  const fields = new Set(paramFields(method).map((f) => f.key))
  const overrides: Record<string, string> = {}
  const notCarried: string[] = []
  for (const [key, value] of Object.entries(stored)) {
    if (key === 'method' || key === 'preset') continue
    if (fields.has(key)) {
      if (typeof value === 'number') overrides[key] = String(value)
    } else if (JSON.stringify(value) !== JSON.stringify(defaults[key])) notCarried.push(key)
  }
  return { preset, overrides, notCarried: notCarried.sort() }
}
