import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';

/** Helpers for tests that run the CLI as a user does and kill it for real (SIGKILL). */
export const BIN = new URL('../../bin/cxr-ssl.mjs', import.meta.url).pathname;

export function runCli(cwd: string, args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', timeout: 240_000 });
  return { code: r.status, signal: r.signal, out: r.stdout, err: r.stderr };
}

export interface Running {
  child: ChildProcess;
  err(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts the CLI. `group`: in a process group of its own, so that a test can signal the whole group
 * (`process.kill(-pid, sig)`) as a terminal's Ctrl-C, `timeout` or SLURM do: the Python children get it too.
 */
export function startCli(cwd: string, args: string[], opts: { group?: boolean } = {}): Running {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: !!opts.group });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  child.stdout!.resume();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, err: () => err, exited };
}

/** Polls `ready` every 10 ms; rejects with `what` (and the child's stderr) on timeout or early exit. */
export async function waitFor<T>(r: Running, what: string, ready: () => T | undefined | false, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = ready();
    if (v) return v;
    if (r.child.exitCode !== null || r.child.signalCode !== null) throw new Error(`the CLI exited before ${what}:\n${r.err()}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${r.err()}`);
    await new Promise((res) => setTimeout(res, 10));
  }
}

/** JSON of a file that is replaced atomically, or undefined while absent. */
export function readJson(path: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

/** pid -> parent pid of every process (Linux /proc). */
function parents(): Map<number, number> {
  const m = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      m.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  return m;
}

/** Every descendant of `pid` now alive. */
export function descendants(pid: number): number[] {
  const pp = parents();
  const out: number[] = [];
  const todo = [pid];
  while (todo.length) {
    const p = todo.pop()!;
    for (const [c, parent] of pp) if (parent === p) {
      out.push(c);
      todo.push(c);
    }
  }
  return out;
}

/** Alive and not a zombie. */
export function alive(pid: number): boolean {
  const stat = `/proc/${pid}/stat`;
  return existsSync(stat) && !/\) Z /.test(readFileSync(stat, 'utf8'));
}

export function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}
