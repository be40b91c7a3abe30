import { z } from 'zod';

/**
 * Encoder and head specifications. A spec is plain JSON: TypeScript builds it, the tfjs builder,
 * the ONNX writer and the Python torch engine all read the same object. Weight names are canonical
 * torchvision-style names (`features.0.weight`, OIHW conv kernels, [out, in] dense kernels).
 */

/**
 * How raw pixels (float 0..255, one grey channel) become the network input; baked into every
 * model so engines feed uint8 and all three runtimes normalise identically.
 *  - per-view: each view standardised on its own: (x - mean) / sqrt(var + 1e-5)
 *  - minus1to1: x / 127.5 - 1 (Keras MobileNetV2 convention)
 *  - torchvision-rgb, caffe-bgr: the grey image as the three channels an ImageNet model was
 *    trained on (see RGB_INPUT_NORMS); the first conv keeps its 3-channel kernel.
 */
export const InputNorm = z.enum(['per-view', 'minus1to1', 'torchvision-rgb', 'caffe-bgr']);
export type InputNorm = z.infer<typeof InputNorm>;

/**
 * Per-channel input scaling of ImageNet models: channel c = (x / divide - mean[c]) / std[c], for
 * the grey x copied to every channel. Emitting three channels (instead of summing the first
 * kernel over them) is exact at the borders too: zero padding pads the normalised channels, whose
 * constant terms differ per channel.
 *  - torchvision-rgb: torchvision's weights, RGB on [0, 1] with ImageNet mean / std
 *  - caffe-bgr: Keras VGG16 (`preprocess_input`, mode 'caffe'): BGR on 0..255 minus the ImageNet
 *    mean in BGR order, no scaling
 */
export const RGB_INPUT_NORMS = {
  'torchvision-rgb': { divide: 255, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
  'caffe-bgr': { divide: 1, mean: [103.939, 116.779, 123.68], std: [1, 1, 1] },
} as const satisfies Partial<Record<InputNorm, { divide: number; mean: readonly number[]; std: readonly number[] }>>;
export type RgbInputNorm = keyof typeof RGB_INPUT_NORMS;

export function isRgbInputNorm(norm: InputNorm): norm is RgbInputNorm {
  return norm in RGB_INPUT_NORMS;
}

/** Channels the input norm hands to the first conv: 3 for the ImageNet RGB/BGR norms, else 1. */
export function normChannels(norm: InputNorm): number {
  return isRgbInputNorm(norm) ? 3 : 1;
}

/** The eps of per-view standardisation: (x - mean) / sqrt(var + PER_VIEW_EPS), in every runtime. */
export const PER_VIEW_EPS = 1e-5;

/**
 * An input norm as numbers, for a reader without our code (config.json's `input_normalisation`) or
 * without our rules (the torch engine's encoder spec, `torchModel`): `affine`: channel c =
 * (x / divide - mean[c]) / std[c] (the grey image copied to every channel); `per-image`:
 * (x - mean(x)) / sqrt(var(x) + eps) over the whole image (population variance).
 */
export const InputNormalisation = z.discriminatedUnion('type', [
  z.object({ type: z.literal('per-image'), name: InputNorm, eps: z.number().positive() }),
  z.object({ type: z.literal('affine'), name: InputNorm, divide: z.number().positive(), mean: z.array(z.number()).min(1), std: z.array(z.number().positive()).min(1) }),
]);
export type InputNormalisation = z.infer<typeof InputNormalisation>;

export function inputNormalisation(norm: InputNorm): InputNormalisation {
  if (norm === 'per-view') return { type: 'per-image', name: norm, eps: PER_VIEW_EPS };
  if (norm === 'minus1to1') return { type: 'affine', name: norm, divide: 127.5, mean: [1], std: [1] };
  const n = RGB_INPUT_NORMS[norm];
  return { type: 'affine', name: norm, divide: n.divide, mean: [...n.mean], std: [...n.std] };
}

/** BatchNorm's fields, in the encoder's `bn` op and a projector's `bn` layer alike (torch's own values). */
const BatchNormFields = {
  eps: z.number().positive().default(1e-5),
  momentum: z.number().positive().max(1).default(0.1),
};

/** One op of the encoder graph. `input` names an earlier op's `id`; default: the previous op. */
export const Op = z.discriminatedUnion('op', [
  z.object({
    op: z.literal('conv'),
    id: z.string(),
    /** canonical weight prefix: `${name}.weight` [out, in/groups, k, k], `${name}.bias` [out] */
    name: z.string(),
    in: z.number().int().positive(),
    out: z.number().int().positive(),
    k: z.number().int().positive(),
    stride: z.number().int().positive().default(1),
    /** explicit symmetric padding, or 'same' (TF-style, may be asymmetric for stride 2) */
    pad: z.union([z.number().int().nonnegative(), z.literal('same')]).default(0),
    groups: z.number().int().positive().default(1),
    bias: z.boolean().default(true),
    input: z.string().optional(),
  }),
  z.object({
    op: z.literal('bn'),
    id: z.string(),
    /**
     * canonical prefix (torch BatchNorm2d): trainable `${name}.weight` / `${name}.bias` [C], buffers
     * `${name}.running_mean` / `${name}.running_var` [C]. Training normalises with the batch's
     * statistics and updates the buffers (torch's momentum convention, unbiased running variance);
     * inference uses the buffers.
     */
    name: z.string(),
    channels: z.number().int().positive(),
    ...BatchNormFields,
    input: z.string().optional(),
  }),
  z.object({ op: z.literal('relu'), id: z.string(), input: z.string().optional() }),
  z.object({ op: z.literal('relu6'), id: z.string(), input: z.string().optional() }),
  z.object({
    op: z.literal('maxpool'),
    id: z.string(),
    k: z.number().int().positive(),
    stride: z.number().int().positive(),
    /** symmetric padding; padded positions never win the max (torch, tfjs and ONNX alike) */
    pad: z.number().int().nonnegative().default(0),
    input: z.string().optional(),
  }),
  z.object({
    op: z.literal('avgpool'),
    id: z.string(),
    /** unpadded average pool (DenseNet's transitions: 2x2 stride 2) */
    k: z.number().int().positive(),
    stride: z.number().int().positive(),
    input: z.string().optional(),
  }),
  z.object({ op: z.literal('add'), id: z.string(), inputs: z.tuple([z.string(), z.string()]) }),
  /** the inputs joined along channels, in order (DenseNet's dense connections) */
  z.object({ op: z.literal('concat'), id: z.string(), inputs: z.array(z.string()).min(2) }),
  /** global average pool -> [B, C]: the encoder's feature vector */
  z.object({ op: z.literal('gap'), id: z.string(), input: z.string().optional() }),
]);
export type Op = z.infer<typeof Op>;

export const EncoderSpec = z
  .object({
    name: z.string(),
    /** the images are grey: one channel in. The input norm may spread it over three (normChannels). */
    channels: z.literal(1),
    inputNorm: InputNorm,
    ops: z.array(Op).min(1),
    /** feature dimension of the last op (a `gap`) */
    features: z.number().int().positive(),
  })
  .superRefine((spec, ctx) => {
    const first = spec.ops[0];
    const want = normChannels(spec.inputNorm);
    if (first.op === 'conv' && first.in !== want) {
      ctx.addIssue({ code: 'custom', path: ['ops', 0, 'in'], message: `inputNorm ${spec.inputNorm} gives ${want} channel(s) but the first conv takes ${first.in}` });
    }
  });
export type EncoderSpec = z.infer<typeof EncoderSpec>;

/**
 * Classifier head (the pretext tasks): shared encoder on each of `views` inputs -> optional
 * per-view projection (dense + relu, weights `head.proj.*`) -> concatenation -> dense `head.fc1`
 * + relu -> dense `head.fc2` -> `classes` logits.
 */
export const ClassifierHead = z.object({
  kind: z.literal('classifier').default('classifier'),
  views: z.number().int().positive(),
  proj: z.number().int().positive().optional(),
  hidden: z.number().int().positive(),
  classes: z.number().int().positive(),
});

/**
 * One layer of a projector head, applied to each view's vector. Widths follow from the encoder's
 * features down the list, so a layer names only its output width.
 *  - dense: `${name}.weight` [out, in], `${name}.bias` [out]
 *  - cosine: `${name}.weight` [out, in], no bias; the input and the weight's rows are L2-normalised in
 *    the forward, so it scores cosines to `out` unit vectors (a weight-normalised layer with its gain
 *    fixed at 1, e.g. prototypes)
 *  - bn: BatchNorm over the batch's views together (torch BatchNorm2d on [N, C, 1, 1]; parameters and
 *    running statistics named, and eps and momentum defaulted, as the encoder's `bn` op)
 *  - relu
 *  - emit: the value here is also part of the head's output, ahead of the final value
 */
export const HeadLayer = z.discriminatedUnion('layer', [
  z.object({ layer: z.literal('dense'), name: z.string(), out: z.number().int().positive() }),
  z.object({ layer: z.literal('cosine'), name: z.string(), out: z.number().int().positive() }),
  z.object({ layer: z.literal('bn'), name: z.string(), ...BatchNormFields }),
  z.object({ layer: z.literal('relu') }),
  z.object({ layer: z.literal('emit') }),
]);
/** As written by a method (input type: BatchNorm's eps and momentum may be left to their defaults). */
export type HeadLayer = z.input<typeof HeadLayer>;

/**
 * Projector head (the embedding methods): each view's features through `layers`, [B, views, width]
 * where width is the emitted widths plus the last layer's; the loss compares the views. A method
 * writes its own layer list (tasks/<method>.ts); the engines build any list from these layer kinds.
 */
export const ProjectorHead = z.object({
  kind: z.literal('projector'),
  views: z.number().int().positive(),
  layers: z.array(HeadLayer).min(1),
});
export type ProjectorHead = z.input<typeof ProjectorHead>;

/** What sits on the encoder during pretraining; absent `kind` means a classifier. */
export const HeadSpec = z.union([ProjectorHead, ClassifierHead]);
export type HeadSpec = z.input<typeof HeadSpec>;

/** A named float32 tensor. */
export interface Tensor {
  shape: number[];
  data: Float32Array;
}
/**
 * Canonical weights: name -> tensor. Insertion order is the canonical order. Besides trainable
 * parameters a Weights map holds buffers (BatchNorm running statistics, see isBuffer): they travel
 * with the weights in checkpoints and encoder files, but have no optimiser state and no gradient.
 */
export type Weights = Map<string, Tensor>;

/**
 * State that training updates without gradients: BatchNorm running statistics (torch buffers) and
 * a loss's own state (`key.*`: a momentum copy of the network; `loss.*`: e.g. a queue of keys).
 */
export function isBuffer(name: string): boolean {
  return name.endsWith('.running_mean') || name.endsWith('.running_var') || name.startsWith('key.') || name.startsWith('loss.');
}
