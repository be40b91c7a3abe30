import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '@cxr-ssl/atomic';

/**
 * results.html beside results.md: the same document (tables with CIs, label-efficiency table) as
 * one self-contained page, each plot embedded as its SVG. It is made from results.md, so the two
 * never disagree; the markdown is our own (headings, paragraphs, pipe tables, images, **bold**,
 * `code`, <br> in cells), so a small converter covers it.
 */
const PLOT_TITLES: Record<string, string> = {
  'label-efficiency': 'Label efficiency',
  roc: 'ROC curves',
  'pretext-curves': 'Pretext training curves',
  'linear-eval': 'Accuracy and AUC with 95% CIs',
  reliability: 'Reliability diagram',
};

/** results.md's plot section: the PNGs written beside it, shown where markdown renders images. */
export function plotsMarkdown(pngs: string[]): string {
  if (pngs.length === 0) return '';
  return ['## Plots', '', ...pngs.map((p) => `![${PLOT_TITLES[p.replace(/\.png$/, '')] ?? p}](${p})`), ''].join('\n\n');
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

/** Markdown (our subset) -> HTML body; `image(src, alt)` returns what stands for an image. */
export function markdownToHtml(md: string, image: (src: string, alt: string) => string): string {
  const lines = md.split('\n');
  const out: string[] = [];
  let para: string[] = [];
  const flush = () => {
    if (para.length > 0) out.push(`<p>${inline(para.join(' '))}</p>`);
    para = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const h = line.match(/^(#{1,6}) (.*)$/);
    const img = line.match(/^!\[([^\]]*)\]\(([^)]+)\)$/);
    if (h) {
      flush();
      out.push(`<h${h[1].length}>${inline(h[2])}</h${h[1].length}>`);
    } else if (img) {
      flush();
      out.push(image(img[2], img[1]));
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
    } else {
      para.push(line.trim());
    }
  }
  flush();
  return out.join('\n');
}

const STYLE = `body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1400px;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:12px}th,td{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#f3f3f3}tbody tr:nth-child(even){background:#fafafa}figure{margin:1em 1.5em 1em 0;display:inline-block;vertical-align:top}figcaption{font-weight:600;margin-bottom:.3em}
.plot svg{max-width:100%;height:auto}code{background:#f3f3f3;padding:0 3px}`;

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
    return `<figure class="plot" data-plot="${escapeHtml(src.replace(/\.png$/, ''))}"><figcaption>${escapeHtml(alt)}</figcaption>${svg}</figure>`;
  });
  const html = `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head>\n<body>\n${body}\n</body></html>\n`;
  const path = join(dir, 'results.html');
  writeFileAtomic(path, html);
  return path;
}

/** After the plots: results.md gains (or renews) its plot section, and results.html is written. */
export function finishReport(dir: string, written: string[]): void {
  const path = join(dir, 'results.md');
  if (!existsSync(path)) return;
  const md = readFileSync(path, 'utf8').split('\n## Plots\n')[0]; // the section is last: renewed, not repeated
  const pngs = written.filter((f) => f.endsWith('.png'));
  writeFileAtomic(path, pngs.length > 0 ? `${md.replace(/\n*$/, '\n\n')}${plotsMarkdown(pngs)}` : md);
  writeHtmlReport(dir);
}
