import { blur } from './blur.ts';
import { intensity } from './intensity.ts';
import { mask } from './mask.ts';
import { noise } from './noise.ts';
import { standardize } from './standardize.ts';

/**
 * The augmentations that paint pixels (each with a TypeScript renderer, and a torch one of the same
 * name in cxr_torch/render/), by name; the geometric ones are in registry.ts. Apart so that the
 * renderer (render.ts), which `body` uses to measure a view, does not import `body` back.
 */
export const PIXEL_OPS = { intensity, blur, noise, standardize, mask };
