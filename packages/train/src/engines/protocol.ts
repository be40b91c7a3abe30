import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { Batch } from '@cxr-ssl/data';
import { z } from 'zod';

/**
 * The torch engine's pipe (the other half is packages/torch/cxr_torch/protocol.py).
 * Request frame on the child's stdin: u32 LE header length, UTF-8 JSON header (with `bytes`, the
 * payload length), then the raw payload. The child answers one JSON line per request, in order;
 * a failure is one line {error, traceback} and then the child exits non-zero. A non-finite float
 * (a diverged loss) arrives as the string "NaN", "Infinity" or "-Infinity" (JSON has no NaN).
 */

/** A float as Python sends it: a number, or the name of a non-finite one. */
const PyFloat = z.union([z.number(), z.enum(['NaN', 'Infinity', '-Infinity']).transform(Number)]);

export const ErrorAnswer = z.object({ error: z.string(), traceback: z.string().optional() });
export const StepAnswer = z.object({
  loss: PyFloat,
  accuracy: z.number().min(0).max(1),
  step: z.number().int().optional(),
  samplesPerSec: PyFloat.optional(),
});
export const InitAnswer = z.object({
  ok: z.literal(true),
  device: z.string(),
  dtype: z.string(),
  torch: z.string(),
  names: z.array(z.string()),
});
export const OkAnswer = z.looseObject({ ok: z.literal(true) });

/** An error raised by the Python side (its message, with its traceback kept for debugging). */
export class TorchProcessError extends Error {
  constructor(
    message: string,
    readonly pythonTraceback?: string,
  ) {
    super(message);
    this.name = 'TorchProcessError';
  }
}

/** A signal (Ctrl-C, SIGTERM) stopped the engine's start, e.g. while its Python was importing torch: nothing was trained. */
export class EngineStartInterrupted extends Error {
  constructor(
    message: string,
    readonly signal: NodeJS.Signals,
  ) {
    super(message);
  }
}

const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/**
 * A train/eval/forward batch as header fields and payload. Painted: {shape, local?, labels}, then x
 * (uint8) and y (int32). Planned: also `render` {size, views: {program, width}, local?}, then the
 * B x size x size cache images, each block's plan rows (float64, [B x views, width]) and y: the engine
 * paints the views on its device (cxr_torch/render). Checked here, so a malformed batch is a
 * TypeScript error naming its sizes, not a Python one.
 */
export function batchFrame(batch: Batch, what: string): { fields: Record<string, unknown>; payload: Uint8Array[] } {
  const [n, v, p, q] = batch.shape;
  const labels = batch.y ? [bytesOf(batch.y)] : [];
  if (batch.y && batch.y.length !== n) throw new Error(`${what} batch has ${batch.y.length} labels for ${n} samples`);
  const fields = { shape: batch.shape, labels: !!batch.y, ...(batch.local ? { local: batch.local } : {}) };
  if (batch.planned) {
    const { images, size, views, local } = batch.planned;
    const blocks: [string, typeof views, number][] = [['views', views, v]];
    if (local && batch.local) blocks.push(['local', local, batch.local[1]]);
    if (images.length !== n * size * size) throw new Error(`${what} batch: ${images.length} image bytes for ${n} images of ${size} px`);
    for (const [name, block, count] of blocks) {
      if (block.params.length !== n * count * block.width) throw new Error(`${what} batch: ${name} plans hold ${block.params.length} numbers, ${n} x ${count} views x ${block.width} expected`);
    }
    const render = Object.fromEntries([['size', size], ...blocks.map(([name, block]) => [name, { program: block.program, width: block.width }])]);
    return { fields: { ...fields, render }, payload: [images, ...blocks.map(([, block]) => bytesOf(block.params)), ...labels] };
  }
  const x = batch.x;
  const want = n * v * p * q + (batch.local ? batch.local.reduce((a, b) => a * b, 1) : 0);
  if (!x || x.length !== want) throw new Error(`${what} batch x has ${x?.length ?? 'no'} bytes, shape [${batch.shape}]${batch.local ? ` + local [${batch.local}]` : ''} needs ${want}`);
  return { fields, payload: [x, ...labels] };
}

export function encodeHeader(header: Record<string, unknown>, payloadBytes: number): Buffer {
  const json = Buffer.from(JSON.stringify({ ...header, bytes: payloadBytes }), 'utf8');
  const out = Buffer.allocUnsafe(4 + json.length);
  out.writeUInt32LE(json.length, 0);
  json.copy(out, 4);
  return out;
}

interface Waiting {
  what: string;
  resolve: (line: unknown) => void;
  reject: (err: Error) => void;
}

const STDERR_TAIL = 40;

/** Why the child exited, in the user's terms (e.g. the likely cause of a SIGKILL), or undefined for the plain report. */
export type ExplainExit = (exit: { code: number | null; signal: NodeJS.Signals | null; killedByUs: boolean }) => string | undefined;

/**
 * Spawns the child and matches answer lines to requests (FIFO). Requests may be pipelined: each
 * `request` writes its frame at once and resolves when its own line arrives. After the first
 * failure every pending and later request rejects with that same error.
 */
export class PipeClient {
  private readonly child: ChildProcessByStdio<Writable, Readable, Readable>;
  private readonly waiting: Waiting[] = [];
  private readonly stderrTail: string[] = [];
  private failure: Error | undefined;
  private exited = false;
  private killedByUs = false;
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(
    command: string,
    args: string[],
    opts: { env?: NodeJS.ProcessEnv; cwd?: string; onLog?: (line: string) => void; label: string; explainExit?: ExplainExit },
  ) {
    this.child = spawn(command, args, { env: opts.env, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    trackChild(this.child);
    this.exit = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.exited = true;
        untrackChild(this.child);
        const tail = this.stderrTail.slice(-12).join('\n');
        const why = opts.explainExit?.({ code, signal, killedByUs: this.killedByUs });
        this.fail(
          new TorchProcessError(
            why ? `${opts.label}: ${why}` : `${opts.label}: the Python process exited (code ${code}, signal ${signal}) with requests unanswered.` + (tail ? `\nLast stderr lines:\n${tail}` : ''),
          ),
        );
        resolve({ code, signal });
      });
      this.child.on('error', (err) => {
        this.fail(new TorchProcessError(`${opts.label}: cannot start "${command}": ${err.message}. Pass --python or set CXR_SSL_PYTHON to a Python with torch (tools/setup-python.sh makes one).`));
        // a child that never started sends no 'exit': settle here, or shutdown() waits forever
        if (this.child.pid === undefined) {
          this.exited = true;
          untrackChild(this.child);
          resolve({ code: null, signal: null });
        }
      });
    });
    // EPIPE when the child died mid-write: the exit handler reports the real cause
    this.child.stdin.on('error', () => {});
    createInterface({ input: this.child.stderr }).on('line', (line) => {
      this.stderrTail.push(line);
      if (this.stderrTail.length > STDERR_TAIL) this.stderrTail.shift();
      opts.onLog?.(line);
    });
    createInterface({ input: this.child.stdout }).on('line', (line) => this.onLine(line, opts.label));
    this.setActive(false);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get pending(): number {
    return this.waiting.length;
  }

  /** Writes one frame and resolves with its answer line (parsed JSON, not yet validated). */
  request(what: string, header: Record<string, unknown>, payload: Uint8Array[] = []): Promise<unknown> {
    if (this.failure) return Promise.reject(this.failure);
    const bytes = payload.reduce((n, p) => n + p.byteLength, 0);
    const answer = new Promise<unknown>((resolve, reject) => this.waiting.push({ what, resolve, reject }));
    // pipelined requests all reject on a failure, and a caller that stopped at the first (the loop's
    // non-finite loss) leaves the rest unawaited: that must not be an unhandled rejection (a crash with a stack)
    answer.catch(() => {});
    this.setActive(true);
    // Node queues the writes in order; the payload buffers are not copied, so callers must not
    // mutate them until the answer arrives (by then Python has read every byte).
    this.child.stdin.write(encodeHeader(header, bytes));
    for (const p of payload) if (p.byteLength) this.child.stdin.write(p);
    return answer;
  }

  /** Closes stdin (the child exits on EOF) and waits, killing it after `graceMs`. */
  async shutdown(graceMs = 10_000): Promise<void> {
    // waiting for the exit keeps the event loop alive: unref'd (idle), a child slower than the grace
    // period (a loaded machine) left nothing running once the kill timer fired, and Node quit with 13
    this.setActive(true);
    if (!this.exited) this.child.stdin.end();
    const timer = setTimeout(() => this.kill(), graceMs);
    await this.exit;
    clearTimeout(timer);
  }

  kill(): void {
    if (this.exited) return;
    this.killedByUs = true;
    this.child.kill('SIGKILL');
  }

  stderr(): string {
    return this.stderrTail.join('\n');
  }

  private onLine(line: string, label: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      this.fail(new TorchProcessError(`${label}: the Python process wrote a line that is not JSON: ${line.slice(0, 200)}`));
      return;
    }
    const err = ErrorAnswer.safeParse(parsed);
    if (err.success) {
      const head = this.waiting[0]?.what ?? 'no request';
      this.fail(new TorchProcessError(`${label}: Python failed on "${head}": ${err.data.error}`, err.data.traceback));
      return;
    }
    const next = this.waiting.shift();
    if (!next) {
      this.fail(new TorchProcessError(`${label}: an answer arrived with no request waiting: ${line.slice(0, 200)}`));
      return;
    }
    if (this.waiting.length === 0) this.setActive(false);
    next.resolve(parsed);
  }

  private fail(err: Error): void {
    if (!this.failure) this.failure = err;
    for (const w of this.waiting.splice(0)) w.reject(this.failure);
    this.setActive(false);
    if (!this.exited) this.child.stdin.end();
  }

  /** An idle engine must not keep the parent's event loop alive; a busy one must. */
  private setActive(active: boolean): void {
    const handles = [this.child, this.child.stdout, this.child.stderr, this.child.stdin] as unknown as { ref(): void; unref(): void }[];
    for (const h of handles) {
      if (typeof h.ref === 'function') active ? h.ref() : h.unref();
    }
  }
}

/** Every live child, killed when this process exits (see trackChild). */
const live = new Set<{ kill(signal?: NodeJS.Signals): boolean }>();
let hooked = false;

/**
 * Children die with us. A normal exit runs the 'exit' hook; SIGINT/SIGTERM kill the children and
 * re-raise the default action, unless the application has its own handler (it then owns the
 * shutdown and calls close()). SIGKILL cannot be trapped: the Python side exits on stdin EOF.
 */
function trackChild(child: { kill(signal?: NodeJS.Signals): boolean }): void {
  live.add(child);
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const c of live) c.kill('SIGKILL');
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    const onSignal = () => {
      if (process.listenerCount(sig) > 1) return;
      for (const c of live) c.kill('SIGKILL');
      process.removeListener(sig, onSignal);
      process.kill(process.pid, sig);
    };
    process.on(sig, onSignal);
  }
}

function untrackChild(child: { kill(signal?: NodeJS.Signals): boolean }): void {
  live.delete(child);
}
