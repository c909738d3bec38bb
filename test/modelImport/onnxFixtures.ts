import { writeFileSync } from 'node:fs'
import { encodeModel, float32Tensor, intAttr, intsAttr, type IrModel, type IrNode } from '../../src/main/engine/onnx/ir'

/**
 * Tiny segmentation models written as ONNX with the IR encoder: a 1×1 convolution (one score per class from the
 * pixel's channels) and a softmax over classes. Every variant breaks exactly one thing an import check looks at.
 */
export interface TinyOnnxOptions {
  height?: number | string
  width?: number | string
  channels?: number
  classes?: number
  layout?: 'NCHW' | 'NHWC'
  /** Conv stride: output at 1/stride of the input. */
  stride?: number
  /** A 3×3 conv without padding: output 2 pixels smaller, not an integer factor. */
  shrink?: boolean
  /** End with scores (no softmax). */
  logits?: boolean
  /** Divide by zero at the end: NaN/Inf output. */
  nonFinite?: boolean
}

const node = (name: string, opType: string, inputs: string[], outputs: string[], attributes: IrNode['attributes'] = {}): IrNode => ({ name, opType, domain: '', inputs, outputs, attributes })

export function tinySegmentationOnnx(o: TinyOnnxOptions = {}): Uint8Array {
  const { height = 8, width = 8, channels = 3, classes = 3, layout = 'NCHW', stride = 1 } = o
  const k = o.shrink ? 3 : 1
  const w = new Float32Array(classes * channels * k * k)
  // Class c weighs channel (c mod channels) up and the others down, so the argmax follows the image.
  for (let c = 0; c < classes; c++) for (let i = 0; i < channels; i++) for (let t = 0; t < k * k; t++) w[((c * channels + i) * k + 0) * k + t] = i === c % channels ? 2 : -0.5
  const nodes: IrNode[] = []
  let x = 'image'
  if (layout === 'NHWC') {
    nodes.push(node('to_nchw', 'Transpose', [x], ['x_nchw'], { perm: intsAttr([0, 3, 1, 2]) }))
    x = 'x_nchw'
  }
  nodes.push(node('classifier', 'Conv', [x, 'W', 'B'], ['scores'], { kernel_shape: intsAttr([k, k]), strides: intsAttr([stride, stride]) }))
  x = 'scores'
  if (!o.logits) {
    nodes.push(node('softmax', 'Softmax', [x], ['probs'], { axis: intAttr(1) }))
    x = 'probs'
  }
  if (o.nonFinite) {
    nodes.push(node('divide_by_zero', 'Div', [x, 'Zero'], ['broken']))
    x = 'broken'
  }
  if (layout === 'NHWC') {
    nodes.push(node('to_nhwc', 'Transpose', [x], ['out_nhwc'], { perm: intsAttr([0, 2, 3, 1]) }))
    x = 'out_nhwc'
  }
  nodes.push(node('output_identity', 'Identity', [x], ['output']))
  const initializers = new Map([
    ['W', float32Tensor(w, [classes, channels, k, k])],
    ['B', float32Tensor(new Float32Array(classes), [classes])],
    ['Zero', float32Tensor([0], [1])]
  ])
  if (!o.nonFinite) initializers.delete('Zero')
  const inputShape = layout === 'NCHW' ? [1, channels, height, width] : [1, height, width, channels]
  const model: IrModel = {
    graph: {
      name: 'tiny-segmentation',
      nodes,
      inputs: [{ name: 'image', dataType: 'float32', shape: inputShape }],
      outputs: [{ name: 'output', dataType: 'float32', shape: null }],
      initializers
    },
    opset: 13,
    otherOpsets: [],
    irVersion: 8,
    producer: 'pytorch'
  }
  return encodeModel(model)
}

export function writeTinyOnnx(path: string, o: TinyOnnxOptions = {}): string {
  writeFileSync(path, tinySegmentationOnnx(o))
  return path
}
