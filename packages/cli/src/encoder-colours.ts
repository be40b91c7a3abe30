import { REFERENCE_METHODS } from '@cxr-ssl/eval';
import { encodersOf } from './report-format.ts';

/** A vega-lite colour scale with its domain fixed: every plot of a report gives an encoder the same colour. */
export interface ColourScale {
  domain: string[];
  range: string[];
}

/** vega's tableau10 without its grey, which the references have. */
const PALETTE = ['#4c78a8', '#f58518', '#e45756', '#72b7b2', '#54a24b', '#eeca3b', '#b279a2', '#ff9da6', '#9d755d'];
/** The references in greys, darker the stronger: random init, random init BN-recalibrated, ImageNet. */
const REFERENCE_GREYS = ['#a8a8a8', '#6e6e6e', '#222222'];

/**
 * One colour per encoder, in table order: the pretrained encoders take the palette in turn, the
 * references their greys. `extra` are names that only some plots have (a pretext run's task in the
 * training curves), given colours after the encoders'.
 */
export function encoderColours(encoders: { label: string; method: string; base?: unknown }[], extra: string[] = []): ColourScale {
  const ordered = encodersOf(encoders);
  const domain = [...ordered.map((e) => e.label), ...[...new Set(extra)].filter((x) => !ordered.some((e) => e.label === x))];
  let next = 0;
  const range = domain.map((label) => {
    const ref = REFERENCE_METHODS.indexOf(ordered.find((e) => e.label === label)?.method ?? '');
    return ref >= 0 ? REFERENCE_GREYS[ref] : PALETTE[next++ % PALETTE.length];
  });
  return { domain, range };
}

/** The legend of a plot lists the encoders it shows (the scale's domain holds every encoder of the report), in table order. */
export const legendValues = (colour: ColourScale, shown: string[]) => colour.domain.filter((x) => shown.includes(x));
