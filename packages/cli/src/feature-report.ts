import { type ResultRow, featureWarning } from '@cxr-ssl/eval';

/**
 * The report's line for encoders whose frozen features are mostly constant or vanishingly small
 * (feature_health of their rows): their rows, and every Δ against them, measure that.
 */
export function featureHealthMarkdown(rows: ResultRow[]): string[] {
  const warned = new Map<string, string>();
  for (const r of rows) {
    const w = r.feature_health && featureWarning(r.label, r.feature_health);
    if (w && !warned.has(r.label)) warned.set(r.label, w.replace(/^warning: /, ''));
  }
  if (warned.size === 0) return [];
  return ['## Feature warnings', '', ...[...warned.values()].map((w) => `- ${w}.`), ''];
}
