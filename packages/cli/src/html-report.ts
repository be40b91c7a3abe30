import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '@cxr-ssl/atomic';
import { PER_SEED_HEADING } from './per-seed-rows.ts';
import { insertBefore, removeSection } from './report.ts';

/**
 * results.html beside results.md: the same document as one self-contained page, each plot embedded as
 * its SVG. It is made from results.md, so the two never disagree; the markdown is our own (headings,
 * paragraphs, lists, pipe tables, images, **bold**, `code`, <br> in cells, <details> and <summary> lines),
 * so a small converter covers it.
 */
const PLOT_TITLES: Record<string, string> = {
  roc: 'ROC curves',
  'pretext-curves': 'Pretext training curves',
  'linear-eval': 'Accuracy and AUC with 95% CIs',
  reliability: 'Reliability diagram',
};
/** The lead figures: in the answer section (report.ts puts them there), not in the plots section. */
const LEAD_PLOTS = ['label-efficiency', 'auc-by-encoder'];

/** results.md's plot section: the PNGs written beside it, shown where markdown renders images. */
export function plotsMarkdown(pngs: string[]): string {
  if (pngs.length === 0) return '';
  return [
    '## Plots',
    '',
    'The images are the PNG files beside this results.md (a forge shows them when the folder is committed as it is); results.html has them inline as SVG.',
    '',
    ...pngs.map((p) => `![${PLOT_TITLES[p.replace(/\.png$/, '')] ?? p}](${p})\n`),
  ].join('\n');
}

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function inline(s: string): string {
  return escapeHtml(s)
    .replace(/&lt;br&gt;/g, '<br>')
    .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>')
    .replace(/`([^`]+)`/g, '<code>$1</code>');
}

const cells = (line: string) =>
  line
    .trim()
    .replace(/^\||\|$/g, '')
    .split('|')
    .map((c) => c.trim());

const RAW_HTML = /^<\/?details>$|^<summary>.*<\/summary>$/;

/**
 * Markdown (our subset) -> HTML body; `image(src, alt)` returns what stands for an image. Each level-2
 * section is a <section> whose id is its heading's slug (the page's style lays out #answer).
 */
export function markdownToHtml(md: string, image: (src: string, alt: string) => string): string {
  const lines = md.split('\n');
  const out: string[] = [];
  let para: string[] = [];
  let list: string[] = [];
  let section = false;
  const flush = () => {
    if (para.length > 0) out.push(`<p>${inline(para.join(' '))}</p>`);
    if (list.length > 0) out.push(`<ul>${list.map((l) => `<li>${inline(l)}</li>`).join('')}</ul>`);
    para = [];
    list = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const h = line.match(/^(#{1,6}) (.*)$/);
    const img = line.match(/^!\[([^\]]*)\]\(([^)]+)\)$/);
    const item = line.match(/^- (.*)$/);
    if (h) {
      flush();
      const level = h[1].length;
      if (level <= 2 && section) out.push('</section>');
      if (level === 2) out.push(`<section id="${h[2].toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '')}">`);
      if (level <= 2) section = level === 2;
      out.push(`<h${level}>${inline(h[2])}</h${level}>`);
    } else if (img) {
      flush();
      out.push(image(img[2], img[1]));
    } else if (item) {
      if (para.length > 0) flush();
      list.push(item[1]);
    } else if (RAW_HTML.test(line.trim())) {
      flush();
      const summary = line.trim().match(/^<summary>(.*)<\/summary>$/);
      out.push(summary ? `<summary>${inline(summary[1])}</summary>` : line.trim());
    } else if (line.startsWith('|') && lines[i + 1]?.match(/^\|[\s|:-]+\|?$/)) {
      flush();
      const head = cells(line);
      const body: string[][] = [];
      i += 2;
      while (i < lines.length && lines[i].startsWith('|')) body.push(cells(lines[i++]));
      i--;
      out.push(
        `<table><thead><tr>${head.map((c) => `<th>${inline(c)}</th>`).join('')}</tr></thead><tbody>${body.map((r) => `<tr>${r.map((c) => `<td>${inline(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`,
      );
    } else if (line.trim() === '') {
      flush();
    } else if (list.length > 0) {
      list[list.length - 1] += ` ${line.trim()}`; // a list item's continuation line
    } else {
      para.push(line.trim());
    }
  }
  flush();
  if (section) out.push('</section>');
  return out.join('\n');
}

const STYLE = `body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1400px;padding:.5em 1.2em;color:#222}
h1{font-size:1.4em;margin:.3em 0}h2{font-size:1.15em;margin:1.2em 0 .4em}
table{border-collapse:collapse;margin:.6em 0;font-size:12px}th,td{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#f3f3f3}tbody tr:nth-child(even){background:#fafafa}figure{margin:.6em 1.5em .6em 0;display:inline-block;vertical-align:top}
.plot svg{max-width:100%;height:auto}code{background:#f3f3f3;padding:0 3px}summary{cursor:pointer;font-weight:600}
#answer{display:grid;grid-template-columns:minmax(340px,1fr) auto;column-gap:28px;align-items:start}
#answer>*{grid-column:1}#answer>h2{grid-column:1/-1;margin-top:.4em}#answer>figure{grid-column:2;grid-row:2/span 30;margin:0}
#answer ul{padding-left:1.2em;margin:.2em 0}#answer li{margin:.3em 0}#answer p{font-size:12px;color:#555}
@media (max-width:1000px){#answer{display:block}}`;

/**
 * Writes results.html from results.md in `dir`; an image `x.png` is replaced by `x.svg` inline
 * (the page needs no other file). Returns the path.
 */
export function writeHtmlReport(dir: string): string {
  const md = readFileSync(join(dir, 'results.md'), 'utf8');
  const title = md.match(/^# (.*)$/m)?.[1] ?? 'cxr-ssl results';
  const body = markdownToHtml(md, (src, alt) => {
    const svgPath = join(dir, src.replace(/\.png$/, '.svg'));
    if (!existsSync(svgPath)) return `<p>(plot ${escapeHtml(src)} missing)</p>`;
    const svg = readFileSync(svgPath, 'utf8').replace(/^<\?xml[^>]*>\s*/, '');
    // the SVG's own title says what it shows: the alt text labels it for a screen reader
    return `<figure class="plot" data-plot="${escapeHtml(src.replace(/\.png$/, ''))}" aria-label="${escapeHtml(alt).replace(/"/g, '&quot;')}">${svg}</figure>`;
  });
  const html = `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head>\n<body>\n${body}\n</body></html>\n`;
  const path = join(dir, 'results.html');
  writeFileAtomic(path, html);
  return path;
}

/**
 * After the plots: results.md gets (or renews) its plot section ahead of the per-seed rows, loses the
 * line of a lead figure that was not drawn this time, and results.html is written.
 */
export function finishReport(dir: string, written: string[]): void {
  const path = join(dir, 'results.md');
  if (!existsSync(path)) return;
  const lead = (line: string) => line.match(/^!\[[^\]]*\]\(([^)]+)\.png\)$/)?.[1];
  let md = removeSection(readFileSync(path, 'utf8'), '## Plots')
    .split('\n')
    .filter((l) => !LEAD_PLOTS.includes(lead(l) ?? '') || written.includes(`${lead(l)}.png`))
    .join('\n');
  const pngs = written.filter((f) => f.endsWith('.png') && !LEAD_PLOTS.includes(f.replace(/\.png$/, '')));
  if (pngs.length > 0) md = insertBefore(md, [PER_SEED_HEADING], `${plotsMarkdown(pngs)}\n`);
  writeFileAtomic(path, md);
  writeHtmlReport(dir);
}
