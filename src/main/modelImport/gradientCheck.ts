import type { ModelCheck } from '@common/modelDescription'
import { gradientChecks } from '../engine/onnx/describe'
import type { IrModel } from '../engine/onnx/ir'

/**
 * The two import checks only the ONNX gradient builder can make: every op on the path from the image to the
 * output has a backward rule (`unsupported-op`, naming the op and the node, code MODEL_UNSUPPORTED_OP) and the
 * output depends on the input at all (`gradient-path`, code MODEL_NO_GRADIENT_PATH).
 */
export function onnxGradientChecks(model: IrModel): ModelCheck[] {
  return gradientChecks(model)
}
