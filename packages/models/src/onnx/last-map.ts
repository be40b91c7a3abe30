import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/**
 * An encoder.onnx (ours: features = Flatten(GlobalAveragePool(map))) with its last spatial map, the
 * GlobalAveragePool's input, as a second output: what Grad-CAM weighs. Works on any encoder.onnx the
 * writer made, run or export, without the weights or the spec.
 */
export function withLastMapOutput(model: Uint8Array): { model: Uint8Array; output: string } {
  const m = onnx.ModelProto.decode(model);
  const pools = (m.graph?.node ?? []).filter((n) => n.opType === 'GlobalAveragePool');
  if (pools.length !== 1 || !pools[0].input?.[0]) throw new Error(`encoder.onnx has ${pools.length} GlobalAveragePool nodes: expected the one cxr-ssl's writer ends every encoder with`);
  const output = pools[0].input[0];
  if (!m.graph!.output!.some((o) => o.name === output)) {
    m.graph!.output!.push({ name: output, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT } } });
  }
  return { model: onnx.ModelProto.encode(m).finish(), output };
}
