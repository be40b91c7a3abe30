import { type Stats, existsSync, ftruncateSync, fsyncSync, openSync, closeSync, readFileSync, renameSync, rmSync, statSync, writeSync, mkdirSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import type { Entry, Split } from '../adapters/types.ts';
import { takeLock, writeFileAtomic } from '@cxr-ssl/atomic';
import { DECODE_VERSION, RESIZE, decodeGreySizes } from '../decode.ts';
import { createPool, defaultWorkers } from '../pool.ts';
import {
  type BadImage,
  CACHE_VERSION,
  Manifest,
  type ManifestEntry,
  Progress,
  cacheFiles,
  parseJsonFile,
  sha1,
} from './format.ts';

export interface WriteCacheOptions {
  dir: string;
  name: string;
  /** several sizes are written in one pass over the sources (each file decoded once) */
  sizes: number[];
  /** the images, in row order, each with its final split */
  entries: (Entry & { split: Split })[];
  /** the data set root: manifest sources are stored relative to it */
  root: string;
  /** whatever else shapes the entries (adapter, its options, split fraction/seed): hashed in */
  options?: unknown;
  /** decoding threads; 0 = decode in this thread (default: all cores) */
  workers?: number;
  onProgress?: (done: number, total: number) => void;
  /** rebuild a cache or partial cache written with other options or from changed sources */
  overwrite?: boolean;
  /** stops at once, like a kill: whatever was checkpointed is kept and a rerun resumes */
  signal?: AbortSignal;
  /** checkpoint the progress file every this many images (default 256) */
  checkpointEvery?: number;
}

export interface SizeResult {
  size: number;
  count: number;
  status: 'written' | 'resumed' | 'up-to-date';
  /** images already done by an earlier, interrupted run */
  resumedFrom: number;
  files: { u8: string; json: string; bad: string };
}

export interface WriteCacheResult {
  sizes: SizeResult[];
  bad: BadImage[];
}

interface Planned {
  entry: ManifestEntry;
  path: string;
  missing?: string;
}

async function plan(o: WriteCacheOptions): Promise<Planned[]> {
  const out: Planned[] = new Array(o.entries.length);
  const chunk = 256;
  for (let s = 0; s < o.entries.length; s += chunk) {
    await Promise.all(
      o.entries.slice(s, s + chunk).map(async (e, k) => {
        const rel = relative(o.root, e.path);
        const source = rel.startsWith('..') || isAbsolute(rel) ? e.path : rel.split(sep).join('/');
        let sourceHash = 'missing';
        let missing: string | undefined;
        try {
          const st = await stat(e.path);
          // reading a named pipe blocks until someone writes to it: prepare would hang there for ever
          if (st.isFile()) sourceHash = `${st.size}-${Math.floor(st.mtimeMs)}`;
          else missing = `not a regular file (${fileKind(st)}): skipped. List image files only`;
        } catch (err) {
          missing = `cannot read file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
        }
        const entry: ManifestEntry = {
          id: e.id,
          label: e.label,
          ...(e.class !== undefined ? { class: e.class } : {}),
          ...(e.findings ? { findings: e.findings } : {}),
          split: e.split,
          ...(e.patient !== undefined ? { patient: e.patient } : {}),
          source,
          sourceHash,
        };
        out[s + k] = { entry, path: e.path, missing };
      }),
    );
  }
  return out;
}

function fileKind(st: Stats): string {
  if (st.isFIFO()) return 'a named pipe';
  if (st.isDirectory()) return 'a folder';
  if (st.isSocket()) return 'a socket';
  return st.isCharacterDevice() || st.isBlockDevice() ? 'a device' : 'not a file';
}

interface SizeState {
  size: number;
  files: ReturnType<typeof cacheFiles>;
  fd: number;
  progress: Progress;
  resumedFrom: number;
}

/** A cache on disk made from other options or other (or touched) source files than asked for now. */
export class CacheMismatchError extends Error {}

/** Another process is writing this cache now. */
export class CacheLockedError extends Error {}

/**
 * One writer per cache name: `<dir>/<name>.lock` (pid, host) while a prepare writes any of its sizes.
 * Two at once would both decode everything and rename each other's partial files away.
 */
function lockCache(dir: string, name: string): () => void {
  const path = join(dir, `${name}.lock`);
  const what = `the dataset cache ${name} in ${dir}`;
  return takeLock(path, {
    busy: (held, sameHost) =>
      new CacheLockedError(
        sameHost
          ? `${what} is being prepared by another process: pid ${held.pid} on this host (since ${held.started}). Wait for it to finish and rerun: what it prepares is then reused, not decoded again`
          : `${what} is being prepared by pid ${held.pid} on host ${held.host} (since ${held.started}): wait for it and rerun. If that prepare is gone, remove ${path}`,
      ),
  });
}

function mismatch(file: string, what: string): Error {
  return new CacheMismatchError(
    `${file} was prepared with ${what}: pass overwrite (--force) to rebuild it, or choose another name/cache dir`,
  );
}

/** Opens (or resumes) the partial file of one size; undefined when the final cache is current. */
function openSize(o: WriteCacheOptions, size: number, optionsHash: string, planHash: string): SizeState | undefined {
  const files = cacheFiles(o.dir, o.name, size);
  const rowBytes = size * size;
  if (o.overwrite && existsSync(files.json)) {
    // another cache version may not even parse: --force must rebuild it without reading it
    const m = Manifest.safeParse(safeJson(files.json));
    if (!(m.success && m.data.optionsHash === optionsHash && m.data.planHash === planHash)) {
      for (const f of [files.json, files.u8, files.bad, files.progress, files.partial]) rmSync(f, { force: true });
    }
  }
  if (o.overwrite && existsSync(files.progress) && !Progress.safeParse(safeJson(files.progress)).success) {
    rmSync(files.progress, { force: true });
  }
  if (existsSync(files.json)) {
    const m = parseJsonFile(Manifest, readFileSync(files.json, 'utf8'), files.json, 'dataset cache manifest');
    const u8ok = existsSync(files.u8) && statSync(files.u8).size === m.count * rowBytes;
    if (u8ok && m.version === CACHE_VERSION && m.optionsHash === optionsHash && m.planHash === planHash) {
      rmSync(files.progress, { force: true }); // left by a kill after the manifest was renamed in
      return undefined;
    }
    if (u8ok && !o.overwrite) {
      const what = m.version !== CACHE_VERSION ? `cache version ${m.version} (this cxr-ssl writes ${CACHE_VERSION}: it keeps each image's class and findings)` : m.optionsHash !== optionsHash ? 'other options' : 'other or changed source images';
      throw mismatch(files.json, what);
    }
    for (const f of [files.json, files.u8, files.bad]) rmSync(f, { force: true });
  }
  let progress: Progress | undefined;
  if (existsSync(files.progress)) {
    const p = parseJsonFile(Progress, readFileSync(files.progress, 'utf8'), files.progress, 'cache progress file');
    if (p.optionsHash === optionsHash && p.planHash === planHash) progress = p;
    else if (!o.overwrite) throw mismatch(files.progress, 'other options or sources (an interrupted run)');
  }
  // a kill between the final renames leaves the finished .u8 without its manifest: take it back
  if (progress && !existsSync(files.partial) && existsSync(files.u8)) renameSync(files.u8, files.partial);
  if (!progress || !existsSync(files.partial)) {
    progress = { version: CACHE_VERSION, size, optionsHash, planHash, processed: 0, rows: 0, bad: [] };
    rmSync(files.partial, { force: true });
  }
  const fd = openSync(files.partial, existsSync(files.partial) ? 'r+' : 'w+');
  // rows written after the last checkpoint are not trusted: drop them and redo
  ftruncateSync(fd, progress.rows * rowBytes);
  const st = { size, files, fd, progress, resumedFrom: progress.processed };
  checkpoint(st); // from now on the partial file is recognisable as an interrupted prepare
  return st;
}

function safeJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

function checkpoint(st: SizeState): void {
  fsyncSync(st.fd);
  writeFileAtomic(st.files.progress, JSON.stringify(st.progress));
}

function finish(st: SizeState, planned: Planned[], o: WriteCacheOptions): number {
  checkpoint(st);
  closeSync(st.fd);
  st.fd = -1;
  const badIds = new Set(st.progress.bad.map((b) => b.id));
  const entries = planned.filter((p) => !badIds.has(p.entry.id)).map((p) => p.entry);
  if (entries.length !== st.progress.rows) {
    throw new Error(`${st.files.partial}: ${st.progress.rows} rows for ${entries.length} entries; delete it and rerun`);
  }
  const manifest: Manifest = {
    version: CACHE_VERSION,
    name: o.name,
    size: st.size,
    count: entries.length,
    optionsHash: st.progress.optionsHash,
    planHash: st.progress.planHash,
    root: o.root,
    created: new Date().toISOString(),
    entries,
  };
  renameSync(st.files.partial, st.files.u8);
  writeFileAtomic(st.files.bad, `${JSON.stringify(st.progress.bad, null, 2)}\n`);
  writeFileAtomic(st.files.json, JSON.stringify(manifest));
  rmSync(st.files.progress, { force: true });
  return entries.length;
}

type Decoded = Uint8Array | { error: string };

/** Runs a write, turning an I/O failure (ENOSPC, EIO, EROFS...) into a message with the file and the fix. */
function ioStep<T>(file: string, dir: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (!code) throw e;
    throw new Error(
      `cannot write ${file} (${code}: ${(e as Error).message}): free space in ${dir} (or choose another --cache-dir) and rerun; ` +
        'prepare resumes from its last checkpoint and the caches already there are untouched',
    );
  }
}

/** Appends one row at its place, looping over short writes (a nearly full disk may write part of it). */
function writeRow(st: SizeState, got: Uint8Array, offset: number, bytes: number): void {
  ioStep(st.files.partial, dirname(st.files.partial), () => {
    const at = st.progress.rows * bytes;
    for (let done = 0; done < bytes; ) done += writeSync(st.fd, got, offset + done, bytes - done, at + done);
  });
}

/**
 * Decodes and resizes every entry into the cache (see format.ts), in Piscina workers, writing
 * rows in entry order so that an interrupted run can continue from its last checkpoint.
 */
export async function writeCache(o: WriteCacheOptions): Promise<WriteCacheResult> {
  const sizes = [...new Set(o.sizes)].sort((a, b) => a - b);
  if (sizes.length === 0) throw new Error('writeCache: give at least one image size');
  mkdirSync(o.dir, { recursive: true });
  const release = lockCache(o.dir, o.name);
  try {
    return await writeLocked(o, sizes);
  } finally {
    release();
  }
}

async function writeLocked(o: WriteCacheOptions, sizes: number[]): Promise<WriteCacheResult> {
  const planned = await plan(o);
  const ids = new Set<string>();
  for (const p of planned) {
    if (ids.has(p.entry.id)) throw new Error(`writeCache: image id '${p.entry.id}' appears twice; ids must be unique`);
    ids.add(p.entry.id);
  }
  const planHash = sha1(planned.map((p) => p.entry));
  const hashes = new Map(
    sizes.map((size) => [size, sha1({ v: CACHE_VERSION, decode: DECODE_VERSION, resize: RESIZE, size, options: o.options ?? null })]),
  );
  const states: SizeState[] = [];
  const results: SizeResult[] = [];
  for (const size of sizes) {
    const st = openSize(o, size, hashes.get(size)!, planHash);
    if (st) states.push(st);
    else {
      const files = cacheFiles(o.dir, o.name, size);
      const m = Manifest.parse(JSON.parse(readFileSync(files.json, 'utf8')));
      results.push({ size, count: m.count, status: 'up-to-date', resumedFrom: m.count, files });
    }
  }
  const total = planned.length;
  const start = Math.min(total, ...states.map((s) => s.progress.processed));
  const every = o.checkpointEvery ?? 256;
  const workers = o.workers ?? defaultWorkers();
  const pool = workers > 0 && states.length > 0 && start < total ? createPool(new URL('./decode-worker.ts', import.meta.url), workers) : undefined;
  const decodeSizes = states.map((s) => s.size);
  const decode = (i: number): Promise<Decoded> => {
    const p = planned[i];
    if (p.missing) return Promise.resolve({ error: p.missing });
    if (pool) return pool.run({ path: p.path, sizes: decodeSizes });
    return decodeGreySizes(p.path, decodeSizes).then(
      (rs) => {
        const out = new Uint8Array(rs.reduce((n, r) => n + r.length, 0));
        let at = 0;
        for (const r of rs) {
          out.set(r, at);
          at += r.length;
        }
        return out;
      },
      (e: Error) => ({ error: e.message }),
    );
  };

  const inflight: Promise<Decoded>[] = [];
  try {
    o.onProgress?.(start, total);
    const window = Math.max(1, workers) * 4;
    let next = start;
    for (let i = start; i < total; i++) {
      while (next < total && next < i + window) {
        const p = decode(next++);
        p.catch(() => {}); // a failed decode is awaited below; never an unhandled rejection
        inflight.push(p);
      }
      const got = await inflight.shift()!;
      if (o.signal?.aborted) {
        // like a kill: no final checkpoint; the rerun truncates to the last one and redoes the rest
        for (const st of states) closeSync(st.fd);
        for (const st of states) st.fd = -1;
        throw new Error(`prepare of ${o.name} aborted at image ${i} of ${total}: rerun to resume`);
      }
      let offset = 0;
      for (const st of states) {
        const bytes = st.size * st.size;
        if (st.progress.processed <= i) {
          if ('error' in got) st.progress.bad.push({ id: planned[i].entry.id, source: planned[i].path, reason: got.error });
          else {
            writeRow(st, got, offset, bytes);
            st.progress.rows++;
          }
          st.progress.processed = i + 1;
          if ((i + 1) % every === 0) ioStep(st.files.progress, o.dir, () => checkpoint(st));
        }
        offset += bytes;
      }
      o.onProgress?.(i + 1, total);
    }
    for (const st of states) {
      results.push({
        size: st.size,
        count: ioStep(st.files.u8, o.dir, () => finish(st, planned, o)),
        status: st.resumedFrom > 0 ? 'resumed' : 'written',
        resumedFrom: st.resumedFrom,
        files: st.files,
      });
    }
  } finally {
    // a failed write (disk full) must not leave the partial files open: the rerun resumes them
    for (const st of states) if (st.fd >= 0) closeSync(st.fd);
    // destroying the pool under running tasks races with their answers (piscina then throws
    // "Unexpected message from Worker", uncaught): let the few in flight finish first
    await Promise.allSettled(inflight);
    await pool?.destroy();
  }
  results.sort((a, b) => a.size - b.size);
  const badFile = cacheFiles(o.dir, o.name, sizes[0]).bad;
  const bad = existsSync(badFile) ? (JSON.parse(readFileSync(badFile, 'utf8')) as BadImage[]) : [];
  return { sizes: results, bad };
}
