import { attrFloat, attrInt, type IrGraph, type IrTensor } from '../onnx/ir'

/**
 * Folds inference-mode BatchNormalization into the Conv (or ConvTranspose) that feeds it:
 * bn(W∗x + b) = (γ/σ)·W∗x + (b − μ)·γ/σ + β with σ = √(var + ε), per output channel. Folding saves a pass over
 * every activation map, and ONNX Runtime then fuses the conv with the activation that follows. Applies only where
 * the conv's output feeds nothing else and its weights are constants used by no other node; other BN nodes stay.
 * Arithmetic is in float64, rounded once to float32.
 */
export function foldBatchNorm(graph: IrGraph): number {
  const consumers = new Map<string, number>()
  for (const n of graph.nodes) for (const i of n.inputs) consumers.set(i, (consumers.get(i) ?? 0) + 1)
  const graphOutputs = new Set(graph.outputs.map((o) => o.name))
  const producer = new Map(graph.nodes.map((n) => [n.outputs[0], n]))
  const removed = new Set<string>()
  let folded = 0

  for (const bn of graph.nodes) {
    if (bn.opType !== 'BatchNormalization' || bn.outputs.length !== 1) continue
    const conv = producer.get(bn.inputs[0])
    if (!conv || (conv.opType !== 'Conv' && conv.opType !== 'ConvTranspose')) continue
    if (consumers.get(conv.outputs[0]) !== 1 || graphOutputs.has(conv.outputs[0])) continue
    const [, gammaName, betaName, meanName, varName] = bn.inputs
    const params = [gammaName, betaName, meanName, varName].map((n) => graph.initializers.get(n))
    const w = graph.initializers.get(conv.inputs[1])
    if (!w || params.some((p) => !p) || consumers.get(conv.inputs[1]) !== 1) continue
    if (conv.inputs[2] && (!graph.initializers.has(conv.inputs[2]) || consumers.get(conv.inputs[2]) !== 1)) continue
    // ConvTranspose's weight is [in, out/group, ...]: its output channel is axis 1, which folds simply for group 1.
    const transposed = conv.opType === 'ConvTranspose'
    if (transposed && attrInt(conv, 'group', 1) !== 1) continue

    const [gamma, beta, mean, variance] = params.map((p) => (p as IrTensor).data as Float32Array)
    const eps = attrFloat(bn, 'epsilon', 1e-5)
    const channels = gamma.length
    const scale = Float64Array.from(gamma, (gm, c) => gm / Math.sqrt(variance[c] + eps))
    const wd = w.data as Float32Array
    const newW = new Float32Array(wd.length)
    const [d0, d1] = w.dims
    const inner = wd.length / (d0 * d1)
    for (let i = 0; i < d0; i++)
      for (let j = 0; j < d1; j++) {
        const c = transposed ? j : i
        const s = scale[c]
        const off = (i * d1 + j) * inner
        for (let k = 0; k < inner; k++) newW[off + k] = wd[off + k] * s
      }
    const oldB = conv.inputs[2] ? (graph.initializers.get(conv.inputs[2]) as IrTensor).data : null
    const newB = new Float32Array(channels)
    for (let c = 0; c < channels; c++) newB[c] = ((oldB ? oldB[c] : 0) as number - mean[c]) * scale[c] + beta[c]

    graph.initializers.set(conv.inputs[1], { dataType: 'float32', dims: w.dims, data: newW })
    const biasName = conv.inputs[2] || `${conv.inputs[1].replace(/\/kernel$|\/depthwise_kernel$/, '')}/folded_bias`
    graph.initializers.set(biasName, { dataType: 'float32', dims: [channels], data: newB })
    conv.inputs = [conv.inputs[0], conv.inputs[1], biasName]
    conv.outputs = [bn.outputs[0]]
    removed.add(bn.name)
    for (const p of [gammaName, betaName, meanName, varName]) {
      consumers.set(p, (consumers.get(p) ?? 1) - 1)
      if (consumers.get(p) === 0) graph.initializers.delete(p)
    }
    folded++
  }
  graph.nodes = graph.nodes.filter((n) => !removed.has(n.name))
  return folded
}
