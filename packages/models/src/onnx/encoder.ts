import onnxProto from 'onnx-proto';
import { type EncoderSpec, isRgbInputNorm, PER_VIEW_EPS, RGB_INPUT_NORMS, type Weights } from '../spec.ts';

const { onnx } = onnxProto;
type INode = onnxProto.onnx.INodeProto;
type IAttr = onnxProto.onnx.IAttributeProto;
type ITensor = onnxProto.onnx.ITensorProto;

const ATTR = onnx.AttributeProto.AttributeType;

function ints(name: string, values: number[]): IAttr {
  return { name, type: ATTR.INTS, ints: values };
}
function int(name: string, value: number): IAttr {
  return { name, type: ATTR.INT, i: value };
}
function str(name: string, value: string): IAttr {
  return { name, type: ATTR.STRING, s: new TextEncoder().encode(value) };
}

function floatTensor(name: string, dims: number[], data: Float32Array): ITensor {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  return { name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: bytes };
}

/**
 * Writes a frozen encoder as ONNX (opset 13 by default):
 *   input  `pixels`   float32 [N, 1, H, W] raw pixel values 0..255 (N, H, W dynamic)
 *   output `features` float32 [N, F]
 * The spec's inputNorm is part of the graph (per-view: ReduceMean over (1, 2, 3), population
 * variance, eps 1e-5; the ImageNet RGB norms broadcast the grey channel to three), so feature extraction feeds raw pixels exactly like training does. Weights
 * become initialisers under their canonical names (OIHW conv kernels are ONNX's layout already).
 * `outputs` adds intermediate op outputs by op id (BatchNorm recalibration reads each BN's input).
 */
export function encoderOnnx(spec: EncoderSpec, weights: Weights, opts: { opset?: number; outputs?: string[] } = {}): Uint8Array {
  const opset = opts.opset ?? 13;
  if (opset < 13 || opset > 17) {
    throw new Error(`encoderOnnx: opset ${opset} is not supported (13..17: ReduceMean axes as an attribute).`);
  }
  const nodes: INode[] = [];
  const initializers: ITensor[] = [];
  const constant = (name: string, value: number) => {
    initializers.push(floatTensor(name, [], new Float32Array([value])));
    return name;
  };
  const node = (opType: string, inputs: string[], output: string, attribute: IAttr[] = []) => {
    nodes.push({ opType, input: inputs, output: [output], name: output, attribute });
    return output;
  };
  const weight = (name: string) => {
    const t = weights.get(name);
    if (!t) throw new Error(`encoderOnnx: missing weight "${name}" for encoder "${spec.name}".`);
    initializers.push(floatTensor(name, t.shape, t.data));
    return name;
  };

  let previous: string;
  if (spec.inputNorm === 'per-view') {
    const axes = [ints('axes', [1, 2, 3]), int('keepdims', 1)];
    const mean = node('ReduceMean', ['pixels'], 'norm.mean', axes);
    const centred = node('Sub', ['pixels', mean], 'norm.centred');
    const squared = node('Mul', [centred, centred], 'norm.squared');
    const variance = node('ReduceMean', [squared], 'norm.variance', axes);
    const std = node('Sqrt', [node('Add', [variance, constant('norm.eps', PER_VIEW_EPS)], 'norm.variance_eps')], 'norm.std');
    previous = node('Div', [centred, std], 'norm.out');
  } else if (isRgbInputNorm(spec.inputNorm)) {
    // [N, 1, H, W] against [1, 3, 1, 1] constants broadcasts the grey channel to three
    const { divide, mean, std } = RGB_INPUT_NORMS[spec.inputNorm];
    const perChannel = (name: string, values: readonly number[]) => {
      initializers.push(floatTensor(name, [1, 3, 1, 1], Float32Array.from(values)));
      return name;
    };
    const scaled = node('Div', ['pixels', constant('norm.divide', divide)], 'norm.scaled');
    const centred = node('Sub', [scaled, perChannel('norm.mean', mean)], 'norm.centred');
    previous = node('Div', [centred, perChannel('norm.std', std)], 'norm.out');
  } else {
    const scaled = node('Div', ['pixels', constant('norm.scale', 127.5)], 'norm.scaled');
    previous = node('Sub', [scaled, constant('norm.one', 1)], 'norm.out');
  }

  const from = (input?: string) => input ?? previous;
  for (const op of spec.ops) {
    switch (op.op) {
      case 'conv': {
        const attrs = [ints('kernel_shape', [op.k, op.k]), ints('strides', [op.stride, op.stride]), int('group', op.groups)];
        // TF-style 'same' puts the odd extra pixel at the end: ONNX SAME_UPPER
        attrs.push(op.pad === 'same' ? str('auto_pad', 'SAME_UPPER') : ints('pads', [op.pad, op.pad, op.pad, op.pad]));
        const inputs = [from(op.input), weight(`${op.name}.weight`)];
        if (op.bias) inputs.push(weight(`${op.name}.bias`));
        previous = node('Conv', inputs, op.id, attrs);
        break;
      }
      case 'bn':
        // inference form: running statistics (opset 13 BatchNormalization has no training mode)
        previous = node(
          'BatchNormalization',
          [from(op.input), ...['weight', 'bias', 'running_mean', 'running_var'].map((p) => weight(`${op.name}.${p}`))],
          op.id,
          [{ name: 'epsilon', type: ATTR.FLOAT, f: op.eps }],
        );
        break;
      case 'relu':
        previous = node('Relu', [from(op.input)], op.id);
        break;
      case 'relu6':
        previous = node('Clip', [from(op.input), constant(`${op.id}.min`, 0), constant(`${op.id}.max`, 6)], op.id);
        break;
      case 'maxpool':
        previous = node('MaxPool', [from(op.input)], op.id, [
          ints('kernel_shape', [op.k, op.k]),
          ints('strides', [op.stride, op.stride]),
          ints('pads', [op.pad, op.pad, op.pad, op.pad]),
        ]);
        break;
      case 'avgpool':
        previous = node('AveragePool', [from(op.input)], op.id, [ints('kernel_shape', [op.k, op.k]), ints('strides', [op.stride, op.stride])]);
        break;
      case 'add':
        previous = node('Add', [op.inputs[0], op.inputs[1]], op.id);
        break;
      case 'concat':
        previous = node('Concat', [...op.inputs], op.id, [int('axis', 1)]);
        break;
      case 'gap':
        previous = node('Flatten', [node('GlobalAveragePool', [from(op.input)], `${op.id}.pool`)], op.id, [
          int('axis', 1),
        ]);
        break;
    }
  }
  const unknown = (opts.outputs ?? []).filter((id) => !nodes.some((n) => n.output?.[0] === id));
  if (unknown.length) throw new Error(`encoderOnnx: no op ${unknown.join(', ')} in encoder "${spec.name}".`);
  if (spec.ops.at(-1)?.op !== 'gap') throw new Error(`encoderOnnx: encoder "${spec.name}" must end with a gap op.`);
  nodes.push({ opType: 'Identity', input: [previous], output: ['features'], name: 'features' });

  const dim = (d: string | number) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d });
  const tensorType = (dims: (string | number)[]) => ({
    tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: dims.map(dim) } },
  });
  const model = onnx.ModelProto.create({
    irVersion: 7,
    opsetImport: [{ domain: '', version: opset }],
    producerName: 'cxr-ssl',
    graph: {
      name: spec.name,
      node: nodes,
      initializer: initializers,
      input: [{ name: 'pixels', type: tensorType(['N', 1, 'H', 'W']) }],
      // `outputs`: op ids also returned (float, shape left open), e.g. what a BatchNormalization sees
      output: [{ name: 'features', type: tensorType(['N', spec.features]) }, ...(opts.outputs ?? []).map((id) => ({ name: id, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT } } }))],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}
