// @vitest-environment happy-dom
import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import { saliencyParams, type SaliencyMethod, type SaliencyPresetName } from '@common/saliency'
import SaliencyParamsForm from '@renderer/components/viewer/SaliencyParamsForm.vue'
import { paramsFromOverrides, presetForModel, settingsOf } from '@renderer/viewer/saliencyMethods'

function mountForm(method: SaliencyMethod, preset: SaliencyPresetName, overrides: Record<string, string> = {}) {
  const w = mount(SaliencyParamsForm, {
    props: {
      method,
      preset,
      overrides,
      'onUpdate:method': (v: SaliencyMethod) => w.setProps({ method: v }),
      'onUpdate:preset': (v: SaliencyPresetName) => w.setProps({ preset: v }),
      'onUpdate:overrides': (v: Record<string, string>) => w.setProps({ overrides: v })
    }
  })
  return w
}
const fieldKeys = (w: ReturnType<typeof mountForm>) => w.findAll('input').map((i) => i.attributes('data-testid'))

describe('saliency parameter form', () => {
  it('offers the optimiser settings for perturbation methods and the map size for gradient ones', async () => {
    const w = mountForm('context', 'cityscapes')
    expect(fieldKeys(w)).toEqual(['param-steps', 'param-lambda', 'param-learningRate', 'param-maskHeight', 'param-maskWidth'])
    await w.get('[data-testid="method"]').setValue('sg')
    expect(w.props('method')).toBe('sg')
    expect(fieldKeys(w)).toEqual(['param-samples', 'param-sigma', 'param-saliencyHeight', 'param-saliencyWidth'])
    await w.get('[data-testid="method"]').setValue('ig')
    expect(fieldKeys(w)).toEqual(['param-steps', 'param-saliencyHeight', 'param-saliencyWidth'])
  })

  it("shows the preset's values as placeholders, so an empty field says what a run will use", async () => {
    const w = mountForm('context', 'synthetic')
    const placeholder = (key: string) => w.get(`[data-testid="param-${key}"]`).attributes('placeholder')
    const synthetic = saliencyParams('context', 'synthetic') as unknown as Record<string, number>
    const cityscapes = saliencyParams('context', 'cityscapes') as unknown as Record<string, number>
    expect(placeholder('maskHeight')).toBe(String(synthetic.maskHeight))
    await w.get('[data-testid="preset"]').setValue('cityscapes')
    expect(w.props('preset')).toBe('cityscapes')
    expect(placeholder('maskHeight')).toBe(String(cityscapes.maskHeight))
    expect(placeholder('maskWidth')).toBe(String(cityscapes.maskWidth))
    // The two presets differ here, or the test could not tell them apart.
    expect(cityscapes.maskWidth).not.toBe(synthetic.maskWidth)
  })

  it('hands typed overrides to its parent and sends only the numeric ones', async () => {
    const w = mountForm('context', 'synthetic', { lambda: '0.1' })
    expect((w.get('[data-testid="param-lambda"]').element as HTMLInputElement).value).toBe('0.1')
    await w.get('[data-testid="param-steps"]').setValue('250')
    await w.get('[data-testid="param-maskWidth"]').setValue('wide')
    expect(w.props('overrides')).toEqual({ lambda: '0.1', steps: '250', maskWidth: 'wide' })
    await w.get('[data-testid="param-lambda"]').setValue('')
    expect(paramsFromOverrides(w.props('overrides'))).toEqual({ steps: 250 })
  })

  it("starts grayscale models on the paper's synthetic settings and every other model on its Cityscapes ones", () => {
    expect(presetForModel({ input: { height: 28, width: 28, channels: 1 } })).toBe('synthetic')
    expect(presetForModel({ input: { height: 64, width: 128, channels: 3 } })).toBe('cityscapes')
    // A model whose description cannot be read is taken for a colour one, like most.
    expect(presetForModel({ input: null })).toBe('cityscapes')
    expect(presetForModel(undefined)).toBe('cityscapes')
  })

  it("puts a stored explanation's settings into the form so that a run from it repeats them", () => {
    // An audit's explanation: the demo's λ and learning rate over the Cityscapes preset, as the services store it.
    const stored = saliencyParams('context', 'cityscapes', { lambda: 0.003, learningRate: 3 }) as unknown as Record<string, unknown>
    const { preset, overrides, notCarried } = settingsOf(stored, 'context', 'cityscapes')
    expect(preset).toBe('cityscapes')
    expect(overrides).toMatchObject({ lambda: '0.003', learningRate: '3', steps: '80', maskHeight: '16', maskWidth: '32' })
    expect(notCarried).toEqual([])
    // What a run sends from that form resolves to the stored parameters, field for field.
    expect(saliencyParams('context', 'cityscapes', paramsFromOverrides(overrides))).toEqual(stored)
    // The services store the preset a run started from: it is taken over, and is no parameter of its own.
    const fromSynthetic = settingsOf({ ...saliencyParams('context', 'synthetic'), preset: 'synthetic' }, 'context', 'cityscapes')
    expect(fromSynthetic.preset).toBe('synthetic')
    expect(fromSynthetic.notCarried).toEqual([])
    expect(fromSynthetic.overrides.maskHeight).toBe('4')

    // A setting the form has no field for is named, not silently dropped.
    const grey = { ...stored, baseline: { kind: 'constant', value: 0.5 }, init: 1 }
    const other = settingsOf(grey, 'context', 'cityscapes')
    expect(other.notCarried).toEqual(['baseline', 'init'])
    expect(saliencyParams('context', 'cityscapes', paramsFromOverrides(other.overrides))).not.toEqual(grey)

    // Gradient methods carry their own fields.
    const sg = saliencyParams('sg', 'cityscapes', { samples: 12, sigma: 0.2 }) as unknown as Record<string, unknown>
    const fromSg = settingsOf(sg, 'sg', 'cityscapes')
    expect(fromSg.overrides).toEqual({ samples: '12', sigma: '0.2', saliencyHeight: '16', saliencyWidth: '32' })
    expect(saliencyParams('sg', 'cityscapes', paramsFromOverrides(fromSg.overrides))).toEqual(sg)
  })
})
