import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encoderSpec, initWeights } from '@cxr-ssl/models';
import { afterAll, describe, expect, it } from 'vitest';
import { PretextConfig } from '../config.ts';
import { writeHubExport } from './hub.ts';
import { EXPORT_MARKER, exportTargetProblem } from './target.ts';

// Where an export may be written: nothing is deleted that cxr-ssl did not write. The CLI's
// reliability/data-safety.test.ts runs the same through `cxr-ssl export` on a real run.
const tmp = mkdtempSync(join(tmpdir(), 'cxr-export-target-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const spec = encoderSpec('vgg-small');
const weights = initWeights(spec, undefined, 3);
const run = PretextConfig.parse({ task: 'rotation', encoder: 'vgg-small', cache: { dir: '.', name: 'kermany-mini', size: 32 }, epochs: 1 });

/** A folder as `cxr-ssl pretext` leaves it: config.json and metrics.jsonl. */
function runFolder(dir: string): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(run));
  writeFileSync(join(dir, 'metrics.jsonl'), '');
  return dir;
}
const plant = (path: string) => {
  const bytes = randomBytes(64);
  writeFileSync(path, bytes);
  return bytes;
};
const exportTo = (out: string, runDir: string) => writeHubExport(out, { spec, weights, run, steps: 3, runDir });

describe('an export goes only where it may', () => {
  it('never into a run folder, a folder that holds one, or a non-empty folder of other files; what is there stays byte for byte', () => {
    const runs = join(tmp, 'a', 'runs');
    const r1 = runFolder(join(runs, 'r1'));
    const other = runFolder(join(runs, 'r2'));
    const kept = plant(join(runs, 'keep.bin'));
    expect(() => exportTo(runs, r1)).toThrow(`${runs} holds the run folder being exported`);
    expect(() => exportTo(join(tmp, 'a'), r1)).toThrow('holds the run folder being exported');
    expect(() => exportTo(r1, r1)).toThrow(`${r1} is the run folder being exported`);
    expect(() => exportTo(other, r1)).toThrow(`${other} is a pretext run folder`);
    const mine = join(tmp, 'a', 'mine');
    mkdirSync(mine);
    const notes = plant(join(mine, 'notes.bin'));
    expect(() => exportTo(mine, r1)).toThrow(`${mine} is not empty (notes.bin) and holds no earlier export of this run`);
    expect(readFileSync(join(runs, 'keep.bin'))).toEqual(kept);
    expect(readFileSync(join(mine, 'notes.bin'))).toEqual(notes);
    expect(readdirSync(r1).sort()).toEqual(['config.json', 'metrics.jsonl']);
    expect(readdirSync(join(tmp, 'a')).sort()).toEqual(['mine', 'runs']); // no temporary folder left behind
  });

  it('over an earlier export of the same run: its files replaced, a file the user added kept; another run is refused', () => {
    const r1 = runFolder(join(tmp, 'b', 'r1'));
    const hub = join(tmp, 'b', 'hub');
    exportTo(hub, r1);
    expect(JSON.parse(readFileSync(join(hub, EXPORT_MARKER), 'utf8'))).toEqual({ run: r1 });
    const notes = plant(join(hub, 'notes.bin'));
    writeFileSync(join(hub, 'README.md'), 'stale card');
    exportTo(hub, r1);
    expect(readFileSync(join(hub, 'notes.bin'))).toEqual(notes);
    expect(readFileSync(join(hub, 'README.md'), 'utf8')).toMatch(/^# vgg-small pretrained by rotation/m); // below the YAML header
    expect(readdirSync(join(tmp, 'b')).sort()).toEqual(['hub', 'r1']);
    const r2 = runFolder(join(tmp, 'b2', 'r2'));
    expect(() => exportTo(hub, r2)).toThrow(`${hub} holds the export of another run`);
    expect(readFileSync(join(hub, 'notes.bin'))).toEqual(notes);
  });

  it("the run's own export folder, and an export made before the marker (its config.json names the run), are the run's", () => {
    const r1 = runFolder(join(tmp, 'c', 'r1'));
    mkdirSync(join(r1, 'export'));
    writeFileSync(join(r1, 'export', 'README.md'), 'an older card');
    expect(exportTargetProblem(join(r1, 'export'), r1)).toBeUndefined();
    const old = join(tmp, 'c', 'old-hub');
    mkdirSync(old);
    writeFileSync(join(old, 'config.json'), JSON.stringify({ library: 'cxr-ssl', run: 'r1' }));
    expect(exportTargetProblem(old, r1)).toBeUndefined();
    writeFileSync(join(old, 'config.json'), JSON.stringify({ library: 'cxr-ssl', run: 'r9' }));
    expect(exportTargetProblem(old, r1)).toBe(`${old} holds the export of another run: choose a new or empty folder`);
    expect(existsSync(join(old, 'config.json'))).toBe(true);
  });
});
