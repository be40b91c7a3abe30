import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROTOCOLS, settingsFromFlags } from '@cxr-ssl/eval';
import { readTfrecords } from '@cxr-ssl/train';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { flagsOf } from './command.ts';
import { ExplainOptions, PROBE_FLAGS } from './commands/explain.ts';
import { finishedRuns } from './commands/linear.ts';

// A short real pretext run through the CLI leaves the export folder and the training curves;
// `cxr-ssl export <run> --out` rewrites the folder with evaluation rows in the card.
const BIN = new URL('../bin/cxr-ssl.mjs', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'cxr-export-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: tmp, encoding: 'utf8', env: { ...process.env, CI: 'true' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const quick = ['--method', 'rotation', '--size', '32', '--epochs', '1', '--steps-per-epoch', '3', '--batch-size', '8', '--quiet'];

describe('pretext run -> export folder, TensorBoard and CSV curves', () => {
  it('a finished run holds export/ (4 files and the marker naming its run), an event file and metrics.csv', () => {
    const r = cli('pretext', ...quick, '--run', 'r1');
    expect(r.code, r.err).toBe(0);
    const run = join(tmp, 'runs', 'r1');
    expect(readdirSync(join(run, 'export')).sort()).toEqual(['.cxr-ssl-export.json', 'README.md', 'config.json', 'encoder.onnx', 'model.safetensors']);
    const config = JSON.parse(readFileSync(join(run, 'export', 'config.json'), 'utf8'));
    expect(config).toMatchObject({ method: 'rotation', steps: 3, input_size: [32, 32], dataset: { name: 'kermany-mini', train_images: 57 } });
    const events = readdirSync(run).filter((f) => f.startsWith('events.out.tfevents.'));
    expect(events).toHaveLength(1);
    expect(readTfrecords(readFileSync(join(run, events[0]))).length).toBeGreaterThanOrEqual(3); // version, steps, epoch
    const csv = readFileSync(join(run, 'metrics.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('kind,step,epoch,batch,loss,accuracy,lr,samplesPerSec,valLoss,valAccuracy,valChance,valSpread,valRank,valEncoderSpread,valEncoderRank');
    expect(csv).toContainEqual(expect.stringMatching(/^epoch,3,0,,[\d.]+,[\d.]+,/));
    // the held-out pass at the end: loss, top-1, chance (1/4), the encoder features' spread and rank
    expect(csv.at(-1)).toMatch(/^heldout,3,0,,,,,,[\d.]+,[\d.]+,0\.25,[\d.]+,[\d.]+,,$/);
  }, 300_000);

  it('export <run> --out --results puts the rows of that run into the card; a missing run is named', () => {
    const run = join(tmp, 'runs', 'r1');
    const row = {
      init: 'rotation', size: 32, accuracy: 0.8, auc: 0.9, balanced_accuracy: 0.8, sensitivity: 0.8, specificity: 0.8, majority_accuracy: 0.6, n_test: 32,
      ci: { accuracy: [0.7, 0.9], auc: [0.85, 0.95] }, roc: [[0, 0], [1, 1]], protocol: 'linear', fraction: 1, seed: 0, data: 'kermany-mini',
      pretext: { run, task: 'rotation', data: 'kermany-mini' }, paired: { random: { accuracy: { diff: 0.1, ci: [0, 0.2] }, auc: { diff: 0.05, ci: [-0.01, 0.11] } } },
    };
    const other = { ...row, init: 'random', pretext: undefined, paired: undefined };
    writeFileSync(join(tmp, 'results.json'), JSON.stringify({ version: 1, created: new Date().toISOString(), rows: [row, other] }));
    const r = cli('export', 'runs/r1', '--out', 'hub', '--results', 'results.json');
    expect(r.code, r.err).toBe(0);
    const card = readFileSync(join(tmp, 'hub', 'README.md'), 'utf8');
    expect(card).toContain('| linear | 100% | 0 | kermany-mini | 32 | 80.0 [70.0, 90.0] | 90.0 [85.0, 95.0] | +5.0 [-1.0, 11.0] | 32 |');
    expect(card.match(/^\| linear/gm)).toHaveLength(1); // the random row is not this encoder's
    // an export under the runs folder is not taken for a run by linear's default encoders
    expect(cli('export', 'runs/r1', '--out', 'runs/r1-hub').code).toBe(0);
    expect(finishedRuns(join(tmp, 'runs'))).toEqual([run]);
    const missing = cli('export', 'runs/nope', '--out', 'x');
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/runs\/nope\/config\.json not found/);
    expect(existsSync(join(tmp, 'x'))).toBe(false);
  }, 120_000);

  it('--logger none writes neither; an unknown logger is refused before any work (exit 2)', () => {
    const bad = cli('pretext', ...quick, '--run', 'r2', '--logger', 'wandb');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/logger/);
    expect(existsSync(join(tmp, 'runs', 'r2'))).toBe(false);
    const r = cli('pretext', ...quick, '--run', 'r3', '--logger', 'none');
    expect(r.code, r.err).toBe(0);
    const files = readdirSync(join(tmp, 'runs', 'r3'));
    expect(files.some((f) => f.includes('tfevents') || f === 'metrics.csv')).toBe(false);
    expect(files).toContain('metrics.jsonl');
  }, 300_000);
});

describe('explain: Grad-CAM of the linear probe over test X-rays', () => {
  it("trains eval's linear probe: the registry's linear options, with eval's flags and defaults", () => {
    const flags = flagsOf(ExplainOptions).map((f) => f.syntax);
    for (const f of ['--hidden <n>', '--epochs <n>', '--head-batch-size <n>', '--lr <x>', '--weight-decay <x>']) expect(flags).toContain(f);
    const probe = (given: Record<string, unknown>) => settingsFromFlags(PROBE_FLAGS, ExplainOptions.parse({ encoder: 'runs/r1', ...given })).linear;
    expect(probe({})).toEqual(PROTOCOLS.linear.options.parse({}));
    expect(probe({ epochs: '3', hidden: '16' })).toEqual(PROTOCOLS.linear.options.parse({ epochs: 3, hidden: 16 }));
  });

  it('writes a labelled grid for a run folder and for its export; a folder without an encoder is a usage error', async () => {
    for (const folder of ['runs/r1', 'runs/r1/export']) {
      const r = cli('explain', folder, '--count', '4', '--out', 'cam.png', '--quiet');
      expect(r.code, r.err).toBe(0);
      // 4 images in one row: each 2 x 160 px + gaps; title 40, then 160 + 20 label + 6
      expect(r.out).toContain(`${join(tmp, 'cam.png')} (1382 x 226 px): Grad-CAM of 4 test X-rays`);
      const meta = await sharp(join(tmp, 'cam.png')).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['png', 1382, 226]);
      // the overlay of the first image is coloured (the map), the X-ray beside it is grey and not blank
      const region = async (left: number) => {
        const { data, info } = await sharp(join(tmp, 'cam.png')).extract({ left, top: 40, width: 160, height: 160 }).raw().toBuffer({ resolveWithObject: true });
        const channel = (c: number) => data.filter((_, i) => i % info.channels === c);
        const mean = (values: Uint8Array) => values.reduce((a, v) => a + v, 0) / values.length;
        const red = mean(channel(0));
        const spread = Math.sqrt(channel(0).reduce((a, v) => a + (v - red) ** 2, 0) / (160 * 160));
        return { red, blue: mean(channel(2)), spread };
      };
      const grey = await region(6);
      const overlay = await region(172);
      expect(grey.red).toBe(grey.blue);
      expect(grey.spread).toBeGreaterThan(5); // real anatomy
      expect(Math.abs(overlay.red - overlay.blue)).toBeGreaterThan(1);
    }
    const bad = cli('explain', 'runs', '--out', 'x.png');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/no encoder\.onnx and config\.json/);
  }, 120_000);
});
