import { type EfficiencyCell, isReference } from '@cxr-ssl/eval';
import type { TopLevelSpec } from 'vega-lite';
import { type ColourScale, legendValues } from './encoder-colours.ts';
import { byPanel, fractionLabel, panelOf } from './report-format.ts';

/**
 * The figure under the answer sentences: AUC (mean over seeds, 95 % bootstrap CI) per encoder, one
 * panel per protocol. With several label fractions it is the label-efficiency plot (AUC against the
 * share of training labels, a line and a CI band per encoder); with one, AUC per encoder with its CI.
 */
export const leadPlotName = (cells: EfficiencyCell[]) => (new Set(cells.map((c) => c.fraction)).size > 1 ? 'label-efficiency' : 'auc-by-encoder');

const seedsText = (cells: EfficiencyCell[]) => {
  const n = [...new Set(cells.map((c) => c.seeds.length))].sort((a, b) => a - b);
  return n.length === 1 && n[0] === 1 ? 'one seed' : `mean over ${n.join('–')} seeds`;
};

/** The figure's title and subtitle; "title, subtitle" is its markdown alt text. */
export function leadPlotTitle(cells: EfficiencyCell[]): { text: string; subtitle: string } {
  const fractions = [...new Set(cells.map((c) => c.fraction))];
  const several = fractions.length > 1;
  return {
    text: several ? 'AUC by share of training labels' : `AUC per encoder at ${fractionLabel(fractions[0] ?? 1, ' ')} of the labels`,
    subtitle: `${seedsText(cells)}, 95 % bootstrap CI ${several ? 'band' : 'bar'}; one panel per protocol`,
  };
}

export function leadFigureSpec(cells: EfficiencyCell[], colour: ColourScale): TopLevelSpec {
  const panel = panelOf(cells);
  const panels = [...new Set([...cells].sort(byPanel).map(panel))];
  const fractions = [...new Set(cells.map((c) => c.fraction))].sort((a, b) => a - b);
  const values = cells.map((c) => ({
    encoder: c.label,
    kind: isReference(c) ? 'reference' : 'pretrained',
    panel: panel(c),
    fraction: c.fraction,
    auc: 100 * c.auc.mean,
    lo: 100 * c.auc.ci[0],
    hi: 100 * c.auc.ci[1],
  }));
  // one legend for the band and line layers, drawn as solid strokes (the band's pale fill would otherwise be its symbol)
  const color = { field: 'encoder', type: 'nominal' as const, scale: colour, title: 'encoder', legend: { values: legendValues(colour, cells.map((c) => c.label)), symbolType: 'stroke', symbolOpacity: 1, symbolStrokeWidth: 3 } };
  const auc = { field: 'auc', type: 'quantitative' as const, title: 'AUC (%)', scale: { zero: false, nice: true }, axis: { format: '~f' } };
  const width = panels.length > 2 ? 200 : 240;
  const several = fractions.length > 1;
  const spec = several
    ? {
        width,
        height: 170,
        layer: [
          { mark: { type: 'area' as const, opacity: 0.1 }, encoding: { x: fractionAxis(fractions), y: { field: 'lo', type: 'quantitative' as const }, y2: { field: 'hi' }, color } },
          {
            mark: { type: 'line' as const, point: true, strokeWidth: 2 },
            encoding: { x: fractionAxis(fractions), y: auc, color, strokeDash: { field: 'kind', type: 'nominal' as const, scale: { domain: ['pretrained', 'reference'], range: [[1, 0], [5, 3]] }, legend: null } },
          },
        ],
      }
    : {
        width,
        height: { step: 18 },
        layer: [
          // the encoders name the rows: no legend
          { mark: { type: 'rule' as const, strokeWidth: 2 }, encoding: { y: { field: 'encoder', type: 'nominal' as const, sort: colour.domain, title: null }, x: { field: 'lo', type: 'quantitative' as const }, x2: { field: 'hi' }, color: { ...color, legend: null } } },
          { mark: { type: 'point' as const, filled: true, size: 60 }, encoding: { y: { field: 'encoder', type: 'nominal' as const, sort: colour.domain }, x: auc, color: { ...color, legend: null } } },
        ],
      };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: { ...leadPlotTitle(cells), anchor: 'start' },
    data: { values },
    facet: { column: { field: 'panel', type: 'nominal', title: null, sort: panels, header: { labelFontSize: 12, labelFontWeight: 'bold' } } },
    spec,
  } as TopLevelSpec;
}

/** The share of training labels on a log scale, ticks at the fractions evaluated ("1%", "10%", "100%"). */
const fractionAxis = (fractions: number[]) => ({
  field: 'fraction',
  type: 'quantitative' as const,
  scale: { type: 'log' as const, domain: [fractions[0] / 1.4, fractions.at(-1)! * 1.4] },
  title: 'share of training labels',
  axis: { values: fractions, format: '~%', grid: true },
});
