import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtureDir, sharedDataDir } from '@cxr-ssl/data/testing';
import sharp from 'sharp';
import { EVAL_CSV_COLUMNS, ResultsFile } from '@cxr-ssl/eval';
import { readTfrecords } from '@cxr-ssl/train';
import { afterAll, describe, expect, it } from 'vitest';

// The CLI as a user runs it: a child process of the bin, exit codes and files checked.
const BIN = new URL('../bin/cxr-ssl.mjs', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'cxr-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: tmp, encoding: 'utf8', env: { ...process.env, CI: 'true' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('option validation happens before any work', () => {
  it('rejects impossible values with the option name and exit code 2', () => {
    const r = cli('pretext', '--task', 'rotation', '--epochs', '0');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/epochs/);
    expect(existsSync(join(tmp, 'runs'))).toBe(false);
  });
  it('checks that schedule flags fit the schedule', () => {
    const noDecay = cli('pretext', '--task', 'rotation', '--schedule', 'inverse-time');
    expect(noDecay.code).toBe(2);
    expect(noDecay.err).toMatch(/inverse-time needs --decay/);
    const stray = cli('pretext', '--task', 'rotation', '--decay', '0.9');
    expect(stray.code).toBe(2);
    expect(stray.err).toMatch(/decay.*not cosine/);
    const warm = cli('pretext', '--task', 'rotation', '--schedule', 'step', '--decay', '0.9', '--warmup', '10');
    expect(warm.code).toBe(2);
    expect(warm.err).toMatch(/warmup.*cosine only/);
    const aug = cli('pretext', '--task', 'rotation', '--augment', 'some');
    expect(aug.code).toBe(2);
    expect(aug.err).toMatch(/augment/);
    const render = cli('pretext', '--task', 'rotation', '--engine', 'tfjs', '--render', 'torch');
    expect(render.code).toBe(2);
    expect(render.err).toMatch(/render: --render torch needs the torch engine/);
    expect(existsSync(join(tmp, 'runs'))).toBe(false);
  });
  it('rejects an unknown task, listing the known ones', () => {
    const r = cli('pretext', '--task', 'colorize');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/rotation/);
  });
  it('rejects unknown keys and wrong types in a config file, naming the file', () => {
    const cfg = join(tmp, 'bad.yaml');
    writeFileSync(cfg, 'task: rotation\nepochz: 3\nlr: fast\n');
    const r = cli('pretext', '--config', cfg);
    expect(r.code).toBe(2);
    expect(r.err).toContain('bad.yaml');
    expect(r.err).toMatch(/epochz|lr/);
  });
});

describe('import-weights', () => {
  it('imports ImageNet weights only into encoders that keep their input scaling (exit 2 otherwise)', () => {
    const r = cli('import-weights', '--from', 'torchvision', '--input', 'x.pth', '--out', 'x.safetensors', '--encoder', 'vgg16');
    expect(r.code).toBe(2);
    expect(r.err).toContain('--encoder vgg16: --from torchvision imports into vgg16-torchvision, vgg16-bn-torchvision, resnet18-torchvision');
  });
});

describe('samples', () => {
  it('writes a labelled grid of real fixture X-rays, preparing the fixture cache when missing', async () => {
    const r = cli('samples', '--task', 'jigsaw', '--size', '64', '--count', '2', '--out', 'grids/jigsaw.png', '--cache-dir', 'grid-cache', '--quiet');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    // jigsaw at 64 px: 16 px tiles shown x6 (96 px), the 64 px image x2 (128 px);
    // width 6 + 128 + 12 + 9 * (96 + 6) = 1064; height 42 title + 2 rows * (128 + 22 label + 6)
    const png = join(tmp, 'grids', 'jigsaw.png');
    expect(r.out).toContain(`${png} (1064 x 354 px)`);
    const meta = await sharp(png).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 1064, 354]);
    // real anatomy in the first tile (x 146..241, y 42..137), not a blank canvas
    const tile = await sharp(png).extract({ left: 146, top: 42, width: 96, height: 96 }).greyscale().stats();
    expect(tile.channels[0].stdev).toBeGreaterThan(5);
    expect(existsSync(join(tmp, 'grid-cache', 'kermany-mini-64.json'))).toBe(true);
    const bad = cli('samples', '--task', 'context', '--size', '32', '--out', 'x.png', '--cache-dir', 'grid-cache', '--augment', 'some');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/augment/);
  });
});

describe('the Nx targets with no other flag (the embedded default, kermany-mini)', () => {
  it('pretext prepares the missing cache and clamps the batch to the 57 train images; linear finds the finished run', () => {
    const p = cli('pretext', '--task', 'rotation', '--size', '32', '--epochs', '1', '--steps-per-epoch', '1', '--batch-size', '64', '--engine', 'tfjs', '--runs-dir', 'nx-runs', '--cache-dir', 'nx-cache');
    expect(p.code).toBe(0);
    expect(p.err).toContain('preparing the bundled fixture kermany-mini at 32 px');
    expect(p.err).toMatch(/train split of kermany-mini-32 has 57 images, fewer than --batch-size 64: using batches of 57/);
    const run = join(tmp, 'nx-runs', 'rotation-vgg-small-bn-kermany-mini-32');
    expect(JSON.parse(readFileSync(join(run, 'config.json'), 'utf8')).batchSize).toBe(57);
    // a folder with an encoder but no config.json is not a finished run: left out by default, refused by name
    const stray = join(tmp, 'nx-runs', 'stray');
    mkdirSync(stray);
    writeFileSync(join(stray, 'encoder.onnx'), readFileSync(join(run, 'encoder.onnx')));
    const l = cli('linear', '--size', '32', '--epochs', '1', '--runs-dir', 'nx-runs', '--cache-dir', 'nx-cache', '--quiet');
    expect(l.code).toBe(0);
    const results = ResultsFile.parse(JSON.parse(readFileSync(join(tmp, 'nx-runs', 'linear-kermany-mini-32', 'results.json'), 'utf8')));
    expect(results.rows.map((x) => [x.label, x.method])).toEqual([['rotation-vgg-small-bn-kermany-mini-32', 'rotation'], ['random', 'random']]);
    // the rows for TensorBoard (one run per encoder, the label fraction in per mille as the step) and a CSV
    const evalDir = join(tmp, 'nx-runs', 'linear-kermany-mini-32');
    const csv = readFileSync(join(evalDir, 'metrics.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe(EVAL_CSV_COLUMNS.join(','));
    const label = 'rotation-vgg-small-bn-kermany-mini-32';
    expect(csv.slice(1).map((l) => l.split(',').slice(0, 8).join(','))).toEqual([`${label},rotation,vgg-small-bn,kermany-mini,32,linear,1,0`, 'random,random,vgg-small-bn,kermany-mini,32,linear,1,0']);
    expect(Number(csv[1].split(',')[EVAL_CSV_COLUMNS.indexOf('auc')])).toBeCloseTo(results.rows[0].auc, 6);
    expect(csv[1].split(',').at(-1)).toBe(results.rows[0].weights_sha256);
    // one TensorBoard run per encoder, named by its label
    expect(readdirSync(join(evalDir, 'tensorboard')).sort()).toEqual(['random', label]);
    for (const board of [label, 'random']) {
      const [events] = readdirSync(join(evalDir, 'tensorboard', board));
      const scalars = readTfrecords(readFileSync(join(evalDir, 'tensorboard', board, events))).slice(1).map((r) => Buffer.from(r).toString('latin1'));
      expect(scalars).toHaveLength(1); // one step: fraction 1 -> 1000
      for (const tag of ['linear/auc', 'linear/accuracy', 'linear/seed0/auc']) expect(scalars[0]).toContain(tag);
    }
    const named = cli('linear', '--size', '32', '--encoders', stray, '--runs-dir', 'nx-runs', '--cache-dir', 'nx-cache');
    expect(named.code).toBe(2);
    expect(named.err).toMatch(/stray has encoder\.onnx but no config\.json/);
  });
  it('another missing data set gets the exact prepare command; a missing option is named as a flag', () => {
    const r = cli('linear', '--data', 'mydata', '--size', '32', '--encoders', 'random', '--cache-dir', 'c2');
    expect(r.code).toBe(2);
    expect(r.err).toContain('cxr-ssl prepare --source <folder or csv> --name mydata --sizes 32 --cache-dir c2');
    const t = cli('pretext');
    expect(t.code).toBe(2);
    expect(t.err).toMatch(/method: give --method \(or its older name --task\): context \| jigsaw \| rotation \| simclr \| moco/);
  });
});

// demo: reliability/no-torch.test.ts runs it as the README's first command, on a machine without torch

describe('reproduce', () => {
  const weights = sharedDataDir() ? join(sharedDataDir()!, '..', 'weights', 'mobilenetv2-0.35-imagenet-tfjs') : undefined;
  const withImagenet = weights !== undefined && existsSync(weights);
  if (!withImagenet) console.warn('reproduce test: ../shared/weights absent, the ImageNet row is left out');

  it('runs the grid, writes the Table-1 report and plots, and skips finished cells on a rerun', () => {
    const cfg = join(tmp, 'grid.yaml');
    writeFileSync(
      cfg,
      [
        'out: grid',
        `data: { source: ${fixtureDir()}, adapter: folder, name: fx }`,
        'sizes: [32]',
        `inits: [${withImagenet ? 'imagenet, ' : ''}rotation, random]`,
        'encoder: vgg-small',
        ...(withImagenet ? [`imagenet: { encoder: mobilenetv2-0.35, weights: ${weights} }`] : []),
        'pretext: { epochs: 1, batchSize: 8, stepsPerEpoch: 2, lr: 0.01, engine: tfjs }',
        'eval: { linear: { epochs: 2 } }',
      ].join('\n'),
    );
    const first = cli('reproduce', '--config', cfg, '--quiet');
    expect(first.err).toBe('');
    expect(first.code).toBe(0);
    const out = join(tmp, 'grid');
    const md = readFileSync(join(out, 'results.md'), 'utf8');
    expect(md).toMatch(/\| rotation \| rotation \| vgg-small \| fx \| random \| [\d.]+ \| /);
    expect(md).toContain('majority class');
    expect(md).toMatch(/Pretext rows: 1 epoch of at most 2 steps, batch 8, SGD lr 0.01, momentum 0.9, lr schedule cosine \(warm-up 5% of steps, to 0\)/);
    if (withImagenet) expect(md).toMatch(/\| imagenet \| imagenet \| mobilenetv2-0\.35 \| – \| – \| [\d.]+ \| 100\.0 \|/);
    for (const f of ['results.json', 'linear-eval.svg', 'linear-eval.png', 'roc.svg', 'pretext-curves.png']) expect(existsSync(join(out, f))).toBe(true);
    const rowFile = join(out, 'rows', 'rotation-32-linear-1-s0.json');
    const before = readFileSync(rowFile, 'utf8');
    const written = statSync(rowFile).mtimeMs;
    const again = cli('reproduce', '--config', cfg, '--quiet');
    expect(again.code).toBe(0);
    expect(readFileSync(rowFile, 'utf8')).toBe(before);
    expect(statSync(rowFile).mtimeMs).toBe(written); // reused, not recomputed (the same result would hide that)
    // a row is reused only while its protocol options match: other head epochs recompute it
    writeFileSync(cfg, readFileSync(cfg, 'utf8').replace('eval: { linear: { epochs: 2 } }', 'eval: { linear: { epochs: 3 } }'));
    expect(cli('reproduce', '--config', cfg, '--quiet').code).toBe(0);
    expect(JSON.parse(readFileSync(rowFile, 'utf8')).options.epochs).toBe(3);
    expect(JSON.parse(before).options.epochs).toBe(2);
    // a finished cell trained with other settings is refused, not silently reused
    writeFileSync(cfg, readFileSync(cfg, 'utf8').replace('lr: 0.01', 'lr: 0.02'));
    const changed = cli('reproduce', '--config', cfg, '--quiet');
    expect(changed.code).toBe(1);
    expect(changed.err).toMatch(/rotation-32.*different configuration/s);
  });

  it('a copied data set (same images, new file times) is refused with the exact prepare --force command, after which reproduce goes on', () => {
    const src = join(tmp, 'copied-set');
    cpSync(fixtureDir(), src, { recursive: true });
    const cfg = join(tmp, 'copied.yaml');
    writeFileSync(cfg, ['out: copied', 'data: { source: copied-set, adapter: folder, name: cp }', 'sizes: [32]', 'inits: [random]', 'encoder: vgg-small', 'eval: { linear: { epochs: 1 } }'].join('\n'));
    expect(cli('reproduce', '--config', cfg, '--quiet').code).toBe(0);
    const touched = join(src, 'test', 'NORMAL', readdirSync(join(src, 'test', 'NORMAL'))[0]);
    utimesSync(touched, new Date(2020, 0, 1), new Date(2020, 0, 1));
    const refused = cli('reproduce', '--config', cfg, '--quiet');
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/cp-32\.json was prepared with other or changed source images\. If only the files' times changed/);
    const command = refused.err.match(/npx cxr-ssl (prepare .* --force)\n/)![1].split(' ');
    expect(command).toEqual(expect.arrayContaining(['--source', src, '--name', 'cp', '--sizes', '32', '--val-fraction', '0.1', '--seed', '0']));
    expect(cli(...command, '--quiet').code).toBe(0);
    expect(cli('reproduce', '--config', cfg, '--quiet').code).toBe(0);
  });

  it('eval: a pretext encoder from the grid on another prepared set (transfer), linear + kNN at label fractions over 2 seeds, paired with random init', () => {
    const prep = cli('prepare', '--source', fixtureDir(), '--name', 'other', '--sizes', '32', '--cache-dir', 'cache', '--quiet');
    expect(prep.code).toBe(0);
    const r = cli('eval', '--encoders', 'grid/runs/rotation-32,random', '--data', 'other', '--size', '32', '--cache-dir', 'cache', '--protocol', 'linear,knn', '--fractions', '0.1,1', '--seeds', '2', '--epochs', '2', '--k', '5', '--out', 'ev', '--quiet');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const rows = ResultsFile.parse(JSON.parse(readFileSync(join(tmp, 'ev', 'results.json'), 'utf8'))).rows;
    // (encoder, protocol, fraction, seed): 2 x 2 x 2 x 2 rows
    expect(new Set(rows.map((x) => `${x.label}|${x.protocol}|${x.fraction}|${x.seed}`)).size).toBe(16);
    const rot = rows.find((x) => x.label === 'rotation-32' && x.protocol === 'knn' && x.fraction === 0.1 && x.seed === 1)!;
    expect(rot).toMatchObject({ method: 'rotation', data: 'other', pretext: { task: 'rotation', data: 'fx', optimizer: { lr: 0.01 } }, options: { k: 5, temperature: 0.07 } });
    expect(rot.paired?.random.auc.ci[0]).toBeLessThanOrEqual(rot.paired!.random.auc.diff);
    // the draw is saved, nested and stratified: 10 % of each class of the train split, at least one image each
    // (fractions file version 2: images drawn per stratum by name, here the classes normal and abnormal)
    const draws = JSON.parse(readFileSync(join(tmp, 'ev', 'fractions', 'other-32-seed1.json'), 'utf8'));
    expect(Object.keys(draws.draws[0].drawn)).toHaveLength(2);
    expect(Object.values(draws.draws[0].drawn).every((n) => (n as number) >= 1)).toBe(true);
    expect(rot.n_train).toBe(draws.draws[0].ids.length);
    const md = readFileSync(join(tmp, 'ev', 'results.md'), 'utf8');
    expect(md).toMatch(/\| rotation-32 \| rotation \| vgg-small \| fx \| random \| 32 \| knn \|.*\| other \|/);
    // the answer first, then the compact table: AUC over the 2 seeds with its CI, ΔAUC vs random init with its CI
    expect(md).toMatch(/## Answer\n\n- \*\*rotation-32\*\* (beats|ties with|loses to) random init /);
    expect(md).toMatch(/\| rotation-32 \| rotation \| vgg-small \| fx \| random \| knn \| 10% \(n=\d+\) \| [\d.]+ \[[\d.]+, [\d.]+\] \| 2, sd [\d.]+ \| \**[+−][\d.]+ \[/);
    expect(existsSync(join(tmp, 'ev', 'label-efficiency.png'))).toBe(true);

    // random init with its BatchNorm statistics recalibrated on the train images: a reference row of its own
    const rb = cli('eval', '--encoders', 'random,random-bn', '--arch', 'vgg-small-bn', '--data', 'other', '--size', '32', '--cache-dir', 'cache', '--protocol', 'linear', '--epochs', '2', '--out', 'rb', '--quiet');
    expect(rb.err).toBe('');
    expect(rb.code).toBe(0);
    const rbRows = ResultsFile.parse(JSON.parse(readFileSync(join(tmp, 'rb', 'results.json'), 'utf8'))).rows;
    const recal = rbRows.find((x) => x.label === 'random-bn')!;
    expect(recal.paired?.random.auc.ci[0]).toBeLessThanOrEqual(recal.paired!.random.auc.diff);
    expect(rbRows.find((x) => x.label === 'random')!.paired?.['random-bn']).toBeDefined();
    expect(readFileSync(join(tmp, 'rb', 'results.md'), 'utf8')).toMatch(/\| ΔAUC vs random \| ΔAUC vs random \(BN recal\.\) \| ΔAUC vs ImageNet \|/);
    const noBn = cli('eval', '--encoders', 'random-bn', '--arch', 'vgg-small', '--data', 'other', '--size', '32', '--cache-dir', 'cache', '--out', 'rb2', '--quiet');
    expect(noBn.code).toBe(2);
    expect(noBn.err).toMatch(/'random-bn' recalibrates BatchNorm statistics, and vgg-small has no BatchNorm layers/);

    // fine-tuning of the same pretext encoder through the tfjs engine, on its 10 % draw
    const ft = cli('eval', '--encoders', 'grid/runs/rotation-32', '--data', 'other', '--size', '32', '--cache-dir', 'cache', '--protocol', 'finetune', '--fractions', '0.1', '--ft-epochs', '2', '--engine', 'tfjs', '--out', 'ft', '--quiet');
    expect(ft.err).toBe('');
    expect(ft.code).toBe(0);
    const [row] = ResultsFile.parse(JSON.parse(readFileSync(join(tmp, 'ft', 'results.json'), 'utf8'))).rows;
    const draw0 = JSON.parse(readFileSync(join(tmp, 'ft', 'fractions', 'other-32-seed0.json'), 'utf8'));
    expect(row).toMatchObject({ label: 'rotation-32', method: 'rotation', protocol: 'finetune', fraction: 0.1, n_train: draw0.draws[0].ids.length, options: { epochs: 2, lr: 0.01 } });
    expect(row.history).toHaveLength(2);
  });
});
