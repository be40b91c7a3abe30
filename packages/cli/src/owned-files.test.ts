import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { takeOutputFolder } from './owned-files.ts';

const tmp = mkdtempSync(join(tmpdir(), 'cxr-owned-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('takeOutputFolder: a rerun removes what its marker lists, and nothing else', () => {
  it("removes an earlier run's paths, keeps the user's beside them byte for byte, refuses a planned path it did not write", () => {
    const dir = join(tmp, 'project');
    mkdirSync(join(dir, 'runs', 'mine'), { recursive: true });
    const mine = randomBytes(32);
    writeFileSync(join(dir, 'runs', 'mine', 'weights.bin'), mine);
    const planned = ['runs/rotation', 'runs/jigsaw', 'results.md'];
    const first = takeOutputFolder(dir, '.marker.json', 'demo', planned, '--dir');
    first.claim(['runs/rotation']);
    mkdirSync(join(dir, 'runs', 'rotation'));
    writeFileSync(join(dir, 'runs', 'rotation', 'encoder.onnx'), 'x');
    takeOutputFolder(dir, '.marker.json', 'demo', planned, '--dir');
    expect(existsSync(join(dir, 'runs', 'rotation'))).toBe(false);
    expect(readFileSync(join(dir, 'runs', 'mine', 'weights.bin'))).toEqual(mine);
    // results.md was never claimed: a file of that name is the user's
    writeFileSync(join(dir, 'results.md'), '# my notes');
    expect(() => takeOutputFolder(dir, '.marker.json', 'demo', planned, '--dir')).toThrow(`${dir} holds results.md, which no earlier demo wrote there`);
    expect(readFileSync(join(dir, 'results.md'), 'utf8')).toBe('# my notes');
  });
});
