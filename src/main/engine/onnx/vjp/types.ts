import type { AttrValue, IrAttribute, IrNode, IrTensor } from '../ir'

/**
 * What a backward rule sees of the graph being built. Rules emit ordinary ONNX ops into the same graph as the
 * forward pass, so every forward value (inputs, outputs, initializers of the node) can be used by its name.
 */
export interface GradContext {
  node: IrNode
  /** Opset of the model: attribute-vs-input forms (Clip, Pad, Split, ReduceSum, Resize...) depend on it. */
  opset: number
  /** Static shape of any forward value; every value has one once the input size is fixed and the graph folded. */
  shape(value: string): number[]
  /** The value of an initializer or folded constant, undefined for values that depend on the input. */
  constant(value: string): IrTensor | undefined
  /** Adds a node to the gradient graph and returns its (fresh, unique) output names. */
  emit(opType: string, inputs: string[], attributes?: Record<string, IrAttribute | AttrValue>, outputCount?: number): string[]
  /** Adds an initializer and returns its name. */
  constantTensor(t: IrTensor): string
  /** 1-D int64 initializer (axes, shapes, pads, slice bounds). */
  int64(values: number[]): string
  /** float32 initializer. */
  float(values: ArrayLike<number>, dims: number[]): string
}

/**
 * Reverse-mode rule of one op for INPUT gradients only. gradOutputs[i] is the name of dL/d(output i) (same shape as
 * output i), or undefined when no gradient reaches that output. wanted[j] is true when input j lies on a path from
 * the differentiated graph input. Returns, per input, the name of dL/d(input j) with exactly input j's shape
 * (broadcasting undone), or undefined where wanted[j] is false. A rule that cannot differentiate a wanted input
 * (e.g. a Conv whose weights depend on the image) throws UnsupportedGradientError.
 */
export type GradRule = (ctx: GradContext, gradOutputs: (string | undefined)[], wanted: boolean[]) => (string | undefined)[]

export class UnsupportedGradientError extends Error {
  constructor(
    readonly node: IrNode,
    reason: string
  ) {
    super(`node '${node.name}' (${node.opType}): ${reason}`)
  }
}
