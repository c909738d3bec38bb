import type { ModelCheck } from '@common/modelDescription'
import type { IrModel } from '../engine/onnx/ir'

/**
 * The two import checks only the ONNX gradient builder can make: every op has a backward rule (`unsupported-op`,
 * naming the op and the node, code MODEL_UNSUPPORTED_OP) and a gradient path leads from the output to the input
 * (`gradient-path`, code MODEL_NO_GRADIENT_PATH). The builder's `gradientChecks(model)` in
 * src/main/engine/onnx/describe.ts plugs in here, as the one line this function's body becomes:
 *
 *   return gradientChecks(model)
 *
 * Until then it reports nothing, so import runs every other check and no model is refused for a reason it
 * cannot state.
 */
export function onnxGradientChecks(model: IrModel): ModelCheck[] {
  void model
  return []
}
