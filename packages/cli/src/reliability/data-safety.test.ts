import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { ResultsFile } from '@cxr-ssl/eval';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './spawn.ts';

/**
 * Nothing is deleted that cxr-ssl did not write (issue 27): export, demo --dir and eval --out on a
 * real run of the fixture X-rays, each with a file planted where it writes, checked byte for byte.
 */
const tmp = mkdtempSync(join(tmpdir(), 'cxr-data-safety-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const cli = (...args: string[]) => runCli(tmp, args);

/** sha256 of every file under `dir`, by relative path: a folder's whole content. */
function contents(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else out[relative(dir, p)] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
}
const plant = (path: string) => {
  const bytes = randomBytes(256);
  writeFileSync(path, bytes);
  return bytes;
};

describe('export writes only into a new or empty folder or over an earlier export of the same run', () => {
  it('--out runs, ., the run itself or a folder of other files: exit 2 naming --out, and every file there is still there', () => {
    const trained = cli('pretext', '--method', 'rotation', '--size', '32', '--epochs', '1', '--steps-per-epoch', '2', '--batch-size', '8', '--engine', 'tfjs', '--run', 'r1', '--quiet');
    expect(trained.code, trained.err).toBe(0);
    const kept = plant(join(tmp, 'runs', 'keep.bin'));
    mkdirSync(join(tmp, 'mine'));
    const notes = plant(join(tmp, 'mine', 'notes.bin'));
    const run = contents(join(tmp, 'runs', 'r1'));
    for (const [out, why] of [
      ['runs', 'holds the run folder being exported'],
      ['.', 'holds the run folder being exported'],
      ['runs/r1', 'is the run folder being exported'],
      ['mine', 'is not empty (notes.bin) and holds no earlier export of this run'],
    ]) {
      const r = cli('export', 'runs/r1', '--out', out);
      expect(r.code, r.err).toBe(2);
      expect(r.err).toContain(`cxr-ssl: --out ${out}: `);
      expect(r.err).toContain(why);
    }
    expect(readFileSync(join(tmp, 'runs', 'keep.bin'))).toEqual(kept);
    expect(readFileSync(join(tmp, 'mine', 'notes.bin'))).toEqual(notes);
    expect(contents(join(tmp, 'runs', 'r1'))).toEqual(run);
    expect(readdirSync(join(tmp, 'runs')).sort()).toEqual(['keep.bin', 'r1']);
  });

  it('a second export of the run replaces its own files and keeps one the user added', () => {
    expect(cli('export', 'runs/r1', '--out', 'hub').code).toBe(0);
    const notes = plant(join(tmp, 'hub', 'notes.bin'));
    const again = cli('export', 'runs/r1', '--out', 'hub');
    expect(again.code, again.err).toBe(0);
    expect(readFileSync(join(tmp, 'hub', 'notes.bin'))).toEqual(notes);
    expect(readdirSync(join(tmp, 'hub')).sort()).toEqual(['.cxr-ssl-export.json', 'README.md', 'config.json', 'encoder.onnx', 'model.safetensors', 'notes.bin']);
    // the card describes the images this run trained on: the fixture's 57, not Kermany's whole set
    expect(readFileSync(join(tmp, 'hub', 'README.md'), 'utf8')).toContain('Pretrained on 57 images (the train split of the prepared data set `kermany-mini`)');
  });
});

describe('demo --dir removes only what an earlier demo wrote there', () => {
  it('a project folder with runs/ and results of its own is refused before any work, its files untouched', () => {
    const proj = join(tmp, 'proj');
    mkdirSync(join(proj, 'runs', 'rotation'), { recursive: true });
    const run = plant(join(proj, 'runs', 'rotation', 'encoder.safetensors'));
    const md = plant(join(proj, 'results.md'));
    const r = runCli(proj, ['demo', '--dir', '.', '--steps', '1']);
    expect(r.code, r.err).toBe(2);
    expect(r.err).toContain(`cxr-ssl: ${proj} holds runs/rotation, results.md, which no earlier demo wrote there (its .cxr-ssl-demo.json does not list them): choose another --dir`);
    expect(readFileSync(join(proj, 'runs', 'rotation', 'encoder.safetensors'))).toEqual(run);
    expect(readFileSync(join(proj, 'results.md'))).toEqual(md);
    expect(readdirSync(proj).sort()).toEqual(['results.md', 'runs']); // nothing prepared, no marker
  });
  it('a --size at which a method cannot run is a usage error before any work (not a schema dump after some methods trained)', () => {
    const r = cli('demo', '--dir', 'small', '--size', '32');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^cxr-ssl: --size 32: context at 32 px gives 8 px views, .* \(every method of the demo runs from --size 64\)\n$/);
    expect(existsSync(join(tmp, 'small'))).toBe(false);
  });
});

describe('eval never replaces an earlier evaluation silently', () => {
  const ev = join(tmp, 'ev');
  it('refused without --overwrite; with it, no stale plot stays, files of other names stay, and the plots name their protocol, labels and seed', () => {
    const first = cli('eval', '--encoders', 'runs/r1,random', '--size', '32', '--epochs', '1', '--fractions', '0.5,1', '--out', 'ev', '--quiet');
    expect(first.code, first.err).toBe(0);
    expect(existsSync(join(ev, 'label-efficiency.svg'))).toBe(true);
    const kept = plant(join(ev, 'keep.bin'));
    const earlier = readFileSync(join(ev, 'results.json'));
    const knn = ['eval', '--encoders', 'runs/r1,random', '--size', '32', '--protocol', 'knn', '--k', '5', '--out', 'ev', '--quiet'];
    const refused = cli(...knn);
    expect(refused.code).toBe(2);
    expect(refused.err).toContain(`cxr-ssl: ${ev} already holds results.json, results.md, results.html, linear-eval.svg, linear-eval.png, roc.svg, roc.png, label-efficiency.svg, label-efficiency.png, reliability.svg, reliability.png, tensorboard, metrics.csv of an earlier evaluation: pass --overwrite`);
    expect(readFileSync(join(ev, 'results.json'))).toEqual(earlier);
    const replaced = cli(...knn, '--overwrite');
    expect(replaced.code, replaced.err).toBe(0);
    expect(existsSync(join(ev, 'label-efficiency.svg')) || existsSync(join(ev, 'label-efficiency.png'))).toBe(false);
    expect(readFileSync(join(ev, 'keep.bin'))).toEqual(kept);
    const rows = ResultsFile.parse(JSON.parse(readFileSync(join(ev, 'results.json'), 'utf8'))).rows;
    expect(rows.map((r) => r.protocol)).toEqual(['knn', 'knn']);
    expect(readFileSync(join(ev, 'linear-eval.svg'), 'utf8')).toContain('Test accuracy and AUC: knn, 100% of the labels, seed 0');
    expect(readFileSync(join(ev, 'roc.svg'), 'utf8')).toContain('ROC on the test split: knn, 100% of the labels, seed 0');
    expect(readFileSync(join(ev, 'results.md'), 'utf8')).not.toContain('label-efficiency.png');
  });
});
