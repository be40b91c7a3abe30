import { readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { writeFileAtomic } from '@cxr-ssl/atomic';
import { type EncoderSpec, inputNormalisation, normChannels, type Weights } from '@cxr-ssl/models';
import { encoderOnnx } from '@cxr-ssl/models/onnx';
import type { PretextConfig } from '../config.ts';
import { dataLicence, modelCard, type CardRow } from './card.ts';
import { hubStateDict, writeStateDict } from './state-dict.ts';
import { writeExportFolder } from './target.ts';
import { TIMM_ARCHITECTURES, timmConfig, trainPixelStats } from './timm.ts';

export const HUB_FORMAT = 1;

/** cxr-ssl's version: the workspace packages share one. */
export function cxrSslVersion(): string {
  const pkg = join(dirname(new URL(import.meta.url).pathname), '..', '..', 'package.json');
  return (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
}

/** torchvision / timm model names whose state dict our encoder's names match (in_chans from the norm). */
const ARCHITECTURES: Record<string, string> = { resnet18: 'resnet18', resnet50: 'resnet50', densenet121: 'densenet121', vgg16: 'vgg16', 'vgg16-bn': 'vgg16_bn' };

export interface HubExportInput {
  spec: EncoderSpec;
  /** encoder weights and BN buffers, canonical names */
  weights: Weights;
  run: PretextConfig;
  /** training updates made */
  steps: number;
  /** evaluation rows for the card (optional) */
  rows?: CardRow[];
  /** the run folder exported (its name goes into config.json, its path into the folder's marker) */
  runDir: string;
  /** the images of the train split the run trained on, when known */
  trainImages?: number;
}

export function hubConfig(x: HubExportInput) {
  const base = x.spec.name.replace(/-(torchvision|keras)$/, '');
  return {
    format: HUB_FORMAT,
    library: 'cxr-ssl',
    cxr_ssl_version: cxrSslVersion(),
    /** timm's model name where timm builds this network exactly (timm.ts), else our encoder's name */
    architecture: TIMM_ARCHITECTURES[base] ? base : x.spec.name,
    /** our encoder (a name of ENCODERS) */
    encoder: x.spec.name,
    torchvision_architecture: ARCHITECTURES[base] ?? null,
    /** the weights' licence: that of the data they were trained on (card.ts) */
    license: dataLicence(x.run.cache.pool?.map((s) => s.name) ?? x.run.cache.name),
    in_chans: normChannels(x.spec.inputNorm),
    input_size: [x.run.cache.size, x.run.cache.size],
    image_channels: 1,
    input_normalisation: inputNormalisation(x.spec.inputNorm),
    feature_dim: x.spec.features,
    pooling: 'global average',
    method: x.run.task,
    method_options: x.run.taskOptions,
    steps: x.steps,
    epochs: x.run.epochs,
    batch_size: x.run.batchSize,
    optimizer: x.run.optimizer,
    schedule: x.run.schedule,
    seed: x.run.seed,
    init: x.run.init,
    dataset: {
      name: x.run.cache.name,
      size: x.run.cache.size,
      ...(x.trainImages === undefined ? {} : { train_images: x.trainImages }),
      /** pooled pretraining: every set the encoder saw, with its sampling weight (null: its share of the images) */
      ...(x.run.cache.pool ? { sources: x.run.cache.pool.map((s) => ({ name: s.name, weight: s.weight ?? null })) } : {}),
    },
    run: basename(resolve(x.runDir)),
    /** the ops graph: what load_encoder builds (same names as the state dict) */
    encoder_spec: x.spec,
    ...timmConfig({
      timm: TIMM_ARCHITECTURES[base] ? base : undefined,
      inChans: normChannels(x.spec.inputNorm),
      size: x.run.cache.size,
      features: x.spec.features,
      norm: inputNormalisation(x.spec.inputNorm),
      stats: x.spec.inputNorm === 'per-view' ? trainPixelStats(x.run) : undefined,
      license: dataLicence(x.run.cache.pool?.map((s) => s.name) ?? x.run.cache.name),
      method: x.run.task,
    }),
  };
}
export type HubConfig = ReturnType<typeof hubConfig>;

/**
 * A model-hub-like folder: model.safetensors (torch state dict: weights, BN buffers and
 * num_batches_tracked), config.json, encoder.onnx (input norm inside, raw pixels in), README.md.
 * Only into a new or empty folder or over an earlier export of the same run (target.ts).
 */
export function writeHubExport(outDir: string, x: HubExportInput): { dir: string; config: HubConfig } {
  const config = hubConfig(x);
  writeExportFolder(outDir, x.runDir, (tmp) => {
    writeStateDict(join(tmp, 'model.safetensors'), hubStateDict(x.spec, x.weights, x.steps), {
      format: 'pt',
      encoder: x.spec.name,
      method: x.run.task,
    });
    writeFileAtomic(join(tmp, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
    writeFileAtomic(join(tmp, 'encoder.onnx'), encoderOnnx(x.spec, x.weights));
    writeFileAtomic(join(tmp, 'README.md'), modelCard(config, x.rows ?? []));
  });
  return { dir: outDir, config };
}
