import type { PretextTask, SampleShape } from '@cxr-ssl/data';
import { type EncoderSpec, type HeadFactory, HeadSpec } from '@cxr-ssl/models';
import type { z } from 'zod';
import type { LossSpec } from '../engine.ts';
import type { EngineName } from '../engines/index.ts';

export interface Encoded {
  trained: SampleShape;
  averaged?: SampleShape;
}

/** What a method's caution weighs: the train split and the global batch (every process's slice together). */
export interface RunSize {
  trainImages: number;
  batchSize: number;
}

/** A per-step scalar as a pure function of the step (0-based update index) and the run's length. */
export type StepSchedule = (step: number, totalSteps: number) => number;

/**
 * One method, whole: every option it takes (the loss's included, each with its one default), its
 * sampler (@cxr-ssl/data) and the part of the options the sampler reads, its head (@cxr-ssl/models),
 * its loss spec, the engines that implement that loss, and its per-step scalars beside the lr
 * (BYOL's EMA tau, DINO's teacher temperature). A run parses the options once (`parseMethod`) and
 * hands the typed value down; nothing downstream parses them again.
 */
export interface Method<O = any, S = any> {
  options: z.ZodType<O, any, any>;
  sampler: PretextTask<S>;
  /** the sampler's own options out of the method's */
  samplerOptions(o: O): S;
  /** the head for an encoder (a classifier's classes counted from the options) */
  head(encoder: EncoderSpec, o: O): HeadSpec;
  loss(o: O): LossSpec;
  /** the engines that implement the loss */
  engines: readonly EngineName[];
  /** per-step scalars beside the lr, by the name the engines' hooks read them under */
  scalars?(o: O): Record<string, StepSchedule>;
  /** how the options fit the data or the batch poorly, if they do: printed as a warning before training (which goes on) */
  caution?(o: O, run: RunSize): string | undefined;
  /**
   * The views of a sample that the trained network encodes, and those a moving-average copy of it
   * encodes without gradient (MoCo's keys, BYOL's target, DINO's teacher): what the torch memory
   * estimate counts (train/src/memory.ts). Default: every view trained, none averaged.
   */
  encodes?(shape: SampleShape, o: O): Encoded;
  /**
   * How many candidates the loss picks the right one from in a batch of `batch` images: in training
   * (`heldOut` false) a loss that learns nothing sits at ln K; on held-out images top-1 at chance is 1/K.
   * Undefined where there is no such number (BYOL's training loss, 2 - 2 cos).
   */
  candidates?(o: O, batch: number, heldOut: boolean): number | undefined;
  /** the likely causes of a collapse (or of a loss at chance) under these options, and the flags that change them */
  collapseHint?(o: O): string;
  /**
   * Its run in the demo (a few tens of steps on the fixture's 57 training images), where it differs from
   * the demo's steps or its study-scale options; docs/DEMO.md has the measurements behind each.
   */
  demo?(data: { trainImages: number; batchSize: number }): { options?: Record<string, unknown>; steps?: number };
  /** the peak learning rate of a run that names none, where the method needs its own (else OptimizerConfig's) */
  lr?: number;
  /** the reproduced study's linear-evaluation accuracy (%) by image size, where it has the method */
  study?: Partial<Record<number, number>>;
}

/** A method whose options are exactly its sampler's (the pretext tasks). */
export function samplerMethod<S>(sampler: PretextTask<S>, head: HeadFactory, loss: LossSpec, rest: Partial<Method<S, S>> = {}): Method<S, S> {
  const classes = (o: S) => sampler.classes?.(sampler.resolve ? sampler.resolve(o) : o);
  return {
    options: sampler.options,
    sampler,
    samplerOptions: (o) => o,
    head: (e, o) => HeadSpec.parse(head(e, classes(o) === undefined ? {} : { classes: classes(o) })),
    loss: () => loss,
    engines: ['torch', 'tfjs'],
    candidates: (o) => classes(o),
    collapseHint: () =>
      'a learning rate too high (--lr; try a tenth) or a warm-up too short (--warmup-epochs), too few steps to start learning (--epochs), or augmentations that hide what the task needs (--augment none to compare)',
    ...rest,
  };
}

/**
 * The options of a method that adds its loss's options to its sampler's: one strict schema holding
 * both (config.json records them together), and the sampler's part picked back out of it.
 */
export function withLossOptions<S extends z.ZodRawShape, L extends z.ZodRawShape>(sampler: z.ZodObject<S>, loss: L) {
  const options = sampler.extend(loss).strict();
  type O = z.infer<typeof options>;
  const keys = Object.keys(sampler.shape);
  const samplerOptions = (o: O) => Object.fromEntries(keys.map((k) => [k, (o as Record<string, unknown>)[k]])) as z.infer<z.ZodObject<S>>;
  return { options, samplerOptions };
}

/** tau of a moving-average network at update `step`: cosine from `base` up to 1 (BYOL, DINO). */
export function cosineToOne(base: number): StepSchedule {
  return (step, total) => 1 - ((1 - base) * (Math.cos((Math.PI * step) / Math.max(1, total)) + 1)) / 2;
}
