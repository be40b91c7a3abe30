import type { LossSpec } from '../engine.ts';

/**
 * The training side of one method (its sampler and options schema live in @cxr-ssl/data, its head
 * in @cxr-ssl/models, each under the same name): which loss the engines minimise, from the
 * method's parsed options.
 */
export interface Method<O = unknown> {
  loss(opts: O): LossSpec;
  /** the engines that implement the loss (default: all) */
  engines?: readonly string[];
  /** how the options fit the data poorly, if they do: printed as a warning before training (which goes on) */
  caution?(opts: O, data: { trainImages: number }): string | undefined;
  /** the reproduced study's linear-evaluation accuracy (%) by image size, where it has the method */
  study?: Partial<Record<number, number>>;
}
