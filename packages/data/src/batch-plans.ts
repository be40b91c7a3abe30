import type { Affine, Program, ViewPlan } from './augment/plan.ts';
import { programOf } from './augment/plan.ts';
import { PIXEL_OPS } from './augment/pixel-ops.ts';
import { renderView } from './augment/render.ts';
import type { Batch, Image, PaintedBatch, PlanBlock, PlannedViews } from './types.ts';

/**
 * Batches of plans: how the views of B samples travel as numbers (one row per view, see PlanBlock)
 * and how they are painted, sliced and packed. The torch engine reads the same layout
 * (packages/torch/cxr_torch/render/__init__.py: `width`, `unflatten`).
 */

/** Parameters of a pixel op after its on/off flag, as its renderers read them. */
function opParams(name: string): number {
  const pixels = (PIXEL_OPS as Record<string, { pixels?: { params: readonly string[] } }>)[name]?.pixels;
  if (!pixels) throw new Error(`view plan: '${name}' is not a pixel op (augment/pixel-ops.ts)`);
  return pixels.params.length;
}

/** Numbers per view of a program: per stage its map (6), then per op [on, ...parameters]. */
export function planWidth(program: Program): number {
  return program.stages.reduce((w, s) => w + 6 + s.ops.reduce((n, op) => n + 1 + opParams(op), 0), 0);
}

/** A view's plan from its row of a block. */
export function unflatten(program: Program, row: ArrayLike<number>): ViewPlan {
  let at = 0;
  const take = (n: number) => Array.from({ length: n }, () => row[at++]);
  return {
    source: program.source,
    stages: program.stages.map((s) => ({ size: s.size, map: take(6) as Affine, ops: s.ops.map((name) => ({ name, params: take(1 + opParams(name)) })) })),
  };
}

/**
 * One block from B samples' views (views[b][v]), each `patch` px: they must share one program (they
 * do by construction: a program depends on the options only), checked here so that a renderer never
 * paints a view by another view's program.
 */
export function planBlock(views: readonly (readonly ViewPlan[])[], patch: number, what: string): PlanBlock {
  const program = programOf(views[0][0]);
  const signature = JSON.stringify(program);
  const width = planWidth(program);
  const count = views[0].length;
  const params = new Float64Array(views.length * count * width);
  let at = 0;
  views.forEach((sample, b) => {
    if (sample.length !== count) throw new Error(`${what}: sample ${b} has ${sample.length} views, sample 0 has ${count}`);
    for (const view of sample) {
      const last = view.stages[view.stages.length - 1].size;
      if (last !== patch) throw new Error(`${what}: a view of sample ${b} is ${last} px, the sampler's shape says ${patch}`);
      if (JSON.stringify(programOf(view)) !== signature) throw new Error(`${what}: sample ${b} has a view planned differently from sample 0's (${JSON.stringify(programOf(view))} vs ${signature})`);
      for (const s of view.stages) {
        params.set(s.map, at);
        at += 6;
        for (const op of s.ops) {
          params.set(op.params, at);
          at += op.params.length;
        }
      }
    }
  });
  return { program, width, params };
}

/** The views of a batch as uint8 pixels: x itself, or its plans painted here by the TypeScript renderer. */
export function batchViews(b: Batch): Uint8Array {
  if (b.x) return b.x;
  if (!b.planned) throw new Error('batch: neither views (x) nor plans (planned)');
  const { images, size, views, local } = b.planned;
  const n = b.shape[0];
  const area = size * size;
  const image = (s: number): Image => ({ pixels: images.subarray(s * area, (s + 1) * area), size });
  const blocks: [PlanBlock, Batch['shape']][] = [[views, b.shape]];
  if (local && b.local) blocks.push([local, b.local]);
  const x = new Uint8Array(blocks.reduce((t, [, [, v, p, q]]) => t + n * v * p * q, 0));
  let at = 0;
  for (const [block, [, v, p, q]] of blocks)
    for (let s = 0; s < n; s++)
      for (let k = 0; k < v; k++, at += p * q) {
        const row = (s * v + k) * block.width;
        renderView(unflatten(block.program, block.params.subarray(row, row + block.width)), image(s), x.subarray(at, at + p * q));
      }
  return x;
}

/** The batch with its views painted (itself when they are). */
export function painted(b: Batch): PaintedBatch {
  if (b.x) return b as PaintedBatch;
  const { planned: _, ...rest } = b;
  return { ...rest, x: batchViews(b) };
}

/** Samples [from, to) of a batch, painted or planned (a DDP rank's slice). */
export function sliceBatch(b: Batch, from: number, to: number): Batch {
  const [n, v, p, q] = b.shape;
  const shape: Batch['shape'] = [to - from, v, p, q];
  const y = b.y?.subarray(from, to);
  const local: Batch['shape'] | undefined = b.local && [to - from, b.local[1], b.local[2], b.local[3]];
  if (b.planned) {
    const { images, size, views, local: lb } = b.planned;
    const rows = (block: PlanBlock, count: number) => ({ ...block, params: block.params.subarray(from * count * block.width, to * count * block.width) });
    const planned: PlannedViews = { images: images.subarray(from * size * size, to * size * size), size, views: rows(views, v), ...(lb && b.local ? { local: rows(lb, b.local[1]) } : {}) };
    return { planned, y, shape, ...(local ? { local } : {}) };
  }
  const x = batchViews(b);
  const per = v * p * q;
  const whole = x.subarray(from * per, to * per);
  if (!b.local) return { x: whole, y, shape };
  const perLocal = b.local[1] * b.local[2] * b.local[3];
  const out = new Uint8Array((to - from) * (per + perLocal));
  out.set(whole, 0);
  out.set(x.subarray(n * per + from * perLocal, n * per + to * perLocal), whole.length);
  return { x: out, y, shape, local };
}

interface PackedHeader {
  shape: Batch['shape'];
  local?: Batch['shape'];
  labels: boolean;
  planned?: { size: number; views: { program: Program; width: number }; local?: { program: Program; width: number } };
}

/**
 * A batch in one buffer, so a worker thread hands it over with one move(): u32 length, a JSON header
 * (shapes, programs), then the arrays (views or images, plan rows, labels), each 8-byte aligned.
 */
export function packBatch(b: Batch): Uint8Array {
  const header: PackedHeader = { shape: b.shape, ...(b.local ? { local: b.local } : {}), labels: !!b.y };
  const arrays: ArrayBufferView[] = [];
  if (b.planned) {
    const { images, size, views, local } = b.planned;
    header.planned = { size, views: { program: views.program, width: views.width }, ...(local ? { local: { program: local.program, width: local.width } } : {}) };
    arrays.push(images, views.params, ...(local ? [local.params] : []));
  } else arrays.push(batchViews(b));
  if (b.y) arrays.push(b.y);
  const json = Buffer.from(JSON.stringify(header));
  const align = (n: number) => Math.ceil(n / 8) * 8;
  let total = align(4 + json.length);
  for (const a of arrays) total = align(total + a.byteLength);
  const out = new Uint8Array(total);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 4);
  let at = align(4 + json.length);
  for (const a of arrays) {
    out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), at);
    at = align(at + a.byteLength);
  }
  return out;
}

export function unpackBatch(buf: Uint8Array): Batch {
  if (buf.byteOffset % 8 !== 0) throw new Error('unpackBatch: the buffer must start 8-byte aligned');
  const length = new DataView(buf.buffer, buf.byteOffset).getUint32(0, true);
  const h = JSON.parse(Buffer.from(buf.subarray(4, 4 + length)).toString('utf8')) as PackedHeader;
  const align = (n: number) => Math.ceil(n / 8) * 8;
  let at = align(4 + length);
  const take = <T>(make: (buffer: ArrayBufferLike, offset: number, count: number) => T, count: number, bytes: number): T => {
    const out = make(buf.buffer, buf.byteOffset + at, count);
    at = align(at + count * bytes);
    return out;
  };
  const u8 = (c: number) => take((b, o, n) => new Uint8Array(b, o, n), c, 1);
  const f64 = (c: number) => take((b, o, n) => new Float64Array(b, o, n), c, 8);
  const [n, v, p, q] = h.shape;
  const localCount = h.local ? h.local[1] * h.local[2] * h.local[3] : 0;
  let body: Pick<Batch, 'x' | 'planned'>;
  if (h.planned) {
    const { size, views, local } = h.planned;
    const images = u8(n * size * size);
    const viewBlock = { ...views, params: f64(n * v * views.width) };
    const localBlock = local && h.local ? { ...local, params: f64(n * h.local[1] * local.width) } : undefined;
    body = { planned: { images, size, views: viewBlock, ...(localBlock ? { local: localBlock } : {}) } };
  } else body = { x: u8(n * (v * p * q + localCount)) };
  const y = h.labels ? take((b, o, c) => new Int32Array(b, o, c), n, 4) : undefined;
  if (at !== buf.length) throw new Error(`unpackBatch: buffer of ${buf.length} bytes does not hold a ${h.shape.join('x')} batch (${at} expected)`);
  return { ...body, y, shape: h.shape, ...(h.local ? { local: h.local } : {}) };
}
