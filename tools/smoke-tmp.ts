import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SAMPLERS, makeBatch, batchViews } from '@cxr-ssl/data';
import { fixtureImages } from '@cxr-ssl/data/testing';
import { writeRenderFiles, renderWithTorch } from '@cxr-ssl/torch/testing';
const imgs = await fixtureImages(16, 128);
const python = process.argv[2];
for (const [name, t] of Object.entries(SAMPLERS)) {
  const o = (t as any).resolve ? (t as any).resolve(t.options.parse({})) : t.options.parse({});
  const b = makeBatch({ get: (i: number) => imgs[i] }, t as any, o, imgs.map((_, i) => i), 3, false);
  const ts = batchViews(b);
  const dir = mkdtempSync(join(tmpdir(), 'rp-'));
  writeRenderFiles(dir, b);
  const r = renderWithTorch(python, dir);
  let max = 0, diff = 0;
  for (let i = 0; i < ts.length; i++) { const d = Math.abs(ts[i] - r.x[i]); if (d) diff++; max = Math.max(max, d); }
  console.log(name, ts.length, r.x.length, 'max', max, 'frac', (diff / ts.length).toExponential(2));
}
