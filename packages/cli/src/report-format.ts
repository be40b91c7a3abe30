import { basename } from 'node:path';
import { PROTOCOL_NAMES, type PretextInfo, type ResultRow } from '@cxr-ssl/eval';
import { INIT_ORDER } from './study.ts';

/** Rates print as points (percent, one decimal), a minus sign as '−'. */
export const points = (x: number) => (100 * x).toFixed(1).replace(/^-/, '−');
export const signedPoints = (x: number) => `${x >= 0 ? '+' : '−'}${points(Math.abs(x))}`;
export const ciText = (c?: [number, number]) => (c ? ` [${points(c[0])}, ${points(c[1])}]` : '');
/** "1%", or "1 %" with a separator (a no-break space in sentences). */
export const fractionLabel = (f: number, sep = '') => `${+(100 * f).toPrecision(3)}${sep}%`;

/** Where an encoder goes in a table: by its method in the study's order, a variant right after the encoder it varies. */
type Ranked = { label: string; method: string; base?: unknown };
export function encoderRank(r: Ranked): number {
  const i = INIT_ORDER.indexOf(r.method);
  return (i < 0 ? INIT_ORDER.length : i) + (r.base ? 0.5 : 0);
}

/** Encoders in table order: by rank, then label. */
export const byEncoder = (a: Ranked, b: Ranked) => encoderRank(a) - encoderRank(b) || a.label.localeCompare(b.label);

/** The encoders of some rows or cells, each once, in table order. */
export const encodersOf = <T extends Ranked>(xs: T[]): T[] => [...new Map(xs.map((x) => [x.label, x])).values()].sort(byEncoder);

/**
 * What a panel of the answer (a sentence's clause, a facet of the lead figure) is: the protocol, with the
 * image size, the evaluation data and the target (abnormal, classes, findings) where the report holds
 * more than one of them.
 */
type Paneled = { protocol: string; size: number; data?: string; target?: string };
export const targetOf = (x: { target?: string }) => x.target ?? 'abnormal';
export function panelOf(all: Paneled[]): (x: Paneled) => string {
  const sizes = new Set(all.map((x) => x.size)).size > 1;
  const data = new Set(all.map((x) => x.data ?? '')).size > 1;
  const targets = new Set(all.map(targetOf)).size > 1;
  return (x) => `${x.protocol}${sizes ? ` at ${x.size} px` : ''}${data ? ` on ${x.data}` : ''}${targets ? `, ${targetOf(x)}` : ''}`;
}

/** Panels in report order: data, size, target, then protocols in registry order (the study's first). */
export const byPanel = (a: Paneled, b: Paneled) =>
  (a.data ?? '').localeCompare(b.data ?? '') ||
  a.size - b.size ||
  targetOf(a).localeCompare(targetOf(b)) ||
  protocolRank(a.protocol) - protocolRank(b.protocol) ||
  a.protocol.localeCompare(b.protocol);
const protocolRank = (p: string) => {
  const i = (PROTOCOL_NAMES as readonly string[]).indexOf(p);
  return i < 0 ? PROTOCOL_NAMES.length : i;
};

/** The identity columns of a row or cell: label, method, architecture, pretext data, where pretraining started. */
export const IDENTITY_HEAD = ['encoder', 'method', 'architecture', 'pretext data', 'init'];
export function identityCells(r: { label: string; method: string; encoder?: string }, pretext?: PretextInfo): string[] {
  const init = pretext?.init === undefined ? '–' : pretext.init === 'random' ? 'random' : basename(pretext.init);
  return [r.label, r.method, r.encoder ?? '–', pretext?.data ?? '–', init];
}

/** Per-seed rows in table order: size, protocol, target, fraction (all labels first), encoder, seed. */
export function sortRows(rows: ResultRow[]): ResultRow[] {
  return [...rows].sort(
    (a, b) => a.size - b.size || a.protocol.localeCompare(b.protocol) || targetOf(a).localeCompare(targetOf(b)) || b.fraction - a.fraction || byEncoder(a, b) || a.seed - b.seed,
  );
}

