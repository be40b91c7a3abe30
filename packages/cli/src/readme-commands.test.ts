import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { repoRoot } from '@cxr-ssl/data';
import { CommanderError } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ReproduceConfig } from './commands/reproduce.ts';
import { readConfigFile, validate } from './config-file.ts';
import { COMMANDS, buildProgram } from './main.ts';

// Every command that README.md and docs/*.md show in a shell block still runs. A `cxr-ssl …` line is
// parsed by the CLI's own program (commander flags, then the command's zod schema; reproduce's config
// file against its schema) with each command's work replaced by a recorder; an Nx target must call
// the CLI; a script or path it names must exist. The cheap ones (CHEAP) then run for real, as a user
// runs them, in a scratch folder. Their links must reach files and headings that exist.
const root = repoRoot();
const BIN = join(root, 'packages/cli/bin/cxr-ssl.mjs');
const CHEAP = new Set(['samples']); // seconds on the bundled fixture, which they prepare themselves

interface Shown {
  where: string; // file:line of the block's first line
  words: string[];
}

/** The commands of every ```bash / ```sh block of a markdown file, as shell words. */
function shownCommands(file: string, text: string): Shown[] {
  const shown: Shown[] = [];
  for (const m of text.matchAll(/^```(?:bash|sh|shell)\n([\s\S]*?)^```/gm)) {
    const first = text.slice(0, m.index).split('\n').length + 1;
    for (const { line, words } of shellCommands(m[1])) shown.push({ where: `${file}:${first + line}`, words });
  }
  return shown;
}

/**
 * Simple commands of a shell text, each with the index of the line it starts on: continuations joined,
 * comments dropped, split at ; && || | outside quotes and $( ).
 */
function shellCommands(text: string): { line: number; words: string[] }[] {
  const out: { line: number; words: string[] }[] = [];
  const lines = text.split('\n');
  for (let start = 0, end = 0; start < lines.length; start = ++end) {
    while (lines[end].endsWith('\\') && end + 1 < lines.length) end++;
    const line = lines.slice(start, end + 1).map((l) => l.replace(/\\$/, ' ')).join('');
    let words: string[] = [];
    let word: string | undefined;
    let quote = '';
    for (let i = 0; i < line.length; i++) {
      const c = line[i];
      if (quote) {
        if (c === quote) quote = '';
        else word += c;
      } else if (c === "'" || c === '"') {
        quote = c;
        word ??= '';
      } else if (c === '$' && line[i + 1] === '(') {
        const end = substitutionEnd(line, i); // a command substitution stays one literal word
        word = (word ?? '') + line.slice(i, end + 1);
        i = end;
      } else if (c === '#' && word === undefined) break;
      else if (/\s/.test(c) || c === ';' || c === '|' || c === '&') {
        if (word !== undefined) words.push(word);
        word = undefined;
        if (!/\s/.test(c) && words.length) {
          out.push({ line: start, words });
          words = [];
        }
      } else word = (word ?? '') + c;
    }
    if (word !== undefined) words.push(word);
    if (words.length) out.push({ line: start, words });
  }
  return out;
}

/** The index of the ')' that closes the '$(' at `at`. */
function substitutionEnd(line: string, at: number): number {
  let depth = 0;
  for (let j = at; j < line.length; j++) {
    if (line[j] === '(') depth++;
    if (line[j] === ')' && --depth === 0) return j;
  }
  return line.length - 1;
}

/** Parse a cxr-ssl command line as main() does, with every command's run replaced by a recorder. */
async function dryParse(args: string[]): Promise<{ command?: string; opts?: Record<string, unknown>; help?: boolean }> {
  const seen: { command?: string; opts?: Record<string, unknown> } = {};
  const spies = COMMANDS.map((spec) =>
    vi.spyOn(spec, 'run').mockImplementation(async (opts) => {
      Object.assign(seen, { command: spec.name, opts });
    }),
  );
  const program = buildProgram();
  let said = '';
  for (const cmd of [program, ...program.commands]) cmd.configureOutput({ writeOut: () => {}, writeErr: (s) => void (said += s) });
  try {
    await program.parseAsync(['node', 'cxr-ssl', ...args]);
  } catch (err) {
    if (err instanceof CommanderError && err.exitCode === 0) return { help: true };
    throw new Error(said.trim() || (err as Error).message);
  } finally {
    for (const s of spies) s.mockRestore();
  }
  if (seen.command === 'reproduce') validate(ReproduceConfig, readConfigFile(String(seen.opts?.config)), String(seen.opts?.config));
  return seen;
}

/** GitHub's anchors of a markdown file's headings: lower case, punctuation dropped, spaces to '-'. */
function headingSlugs(text: string): Set<string> {
  const headings = text.replace(/^```[\s\S]*?^```/gm, '').matchAll(/^#+ (.*)$/gm);
  return new Set([...headings].map((h) => h[1].toLowerCase().replace(/[^\p{L}\p{N}\- ]/gu, '').replace(/ /g, '-')));
}

/** What a shown command is to this test: ours to parse, an Nx target, a script or path to find, or someone else's. */
function classify(words: string[]) {
  const w = words.slice(words.findIndex((x) => !/^[A-Za-z_]\w*=/.test(x))); // without VAR=value prefixes
  const cli = w.indexOf('cxr-ssl');
  if (cli >= 0) return { kind: 'cli' as const, args: w.slice(cli + 1) };
  if (w[0] === 'npx' && w[1] === 'nx' && w[2] === 'run') return { kind: 'nx' as const, target: w[3], args: w.slice(4) };
  if ((w[0] === 'npx' && w[1] === 'tsx') || w[0] === 'bash' || w[0] === 'node') return { kind: 'path' as const, path: w.find((x, i) => i > 0 && x !== 'tsx' && !x.startsWith('-'))! };
  if (w[0] === 'pip' && w[1] === 'install') return { kind: 'path' as const, path: w.find((x) => x.startsWith('./'))! };
  if (w[0] === 'npm' && w[1] === 'test') return { kind: 'npm-test' as const };
  return { kind: 'other' as const };
}

const docs = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const shown = docs.flatMap((f) => shownCommands(f, readFileSync(join(root, f), 'utf8')));
const ours = shown.map((s) => ({ ...s, ...classify(s.words) })).filter((s) => s.kind !== 'other');
const label = (s: Shown) => `${s.where}: ${s.words.join(' ')}`;

const cwd = process.cwd();
const scratch = mkdtempSync(join(tmpdir(), 'cxr-readme-'));
beforeAll(() => process.chdir(root)); // the docs' paths are relative to the repository root
afterAll(() => {
  process.chdir(cwd);
  rmSync(scratch, { recursive: true, force: true });
});

describe('the commands README.md and docs/*.md show', () => {
  it('include every cxr-ssl command, and the README shows the set-up and test commands', () => {
    const readme = shown.filter((s) => s.where.startsWith('README.md:')).map((s) => s.words.join(' '));
    expect(readme).toEqual(expect.arrayContaining(['npm ci', 'npx cxr-ssl demo', 'npm test'])); // .ci/run runs the README's test command
    const named = new Set(ours.flatMap((s) => (s.kind === 'cli' ? [s.args[0]] : [])));
    expect([...COMMANDS.map((c) => c.name)].filter((n) => !named.has(n))).toEqual([]);
  });

  it('are checked by a parser that refuses what the CLI refuses', async () => {
    await expect(dryParse(['pretext', '--method', 'rotation', '--bogus-flag'])).rejects.toThrow(/unknown option '--bogus-flag'/);
    await expect(dryParse(['pretext', '--method', 'spin'])).rejects.toThrow(/method/);
    await expect(dryParse(['reproduce', '--config', 'packages/cli/package.json'])).rejects.toThrow(/package\.json/);
    await expect(dryParse(['pretext', '--method', 'dino', '--set', 'teacherTemperature=0.04'])).resolves.toMatchObject({ command: 'pretext' });
    expect(shellCommands('a "b c" \\\n d # e\nx=$(f | g) h && i; j').map((c) => [c.line, ...c.words])).toEqual([
      [0, 'a', 'b c', 'd'],
      [2, 'x=$(f | g)', 'h'],
      [2, 'i'],
      [2, 'j'],
    ]);
  });

  it.each(ours.filter((s) => s.kind === 'cli').map((s) => [label(s), s] as const))('%s parses', async (_, s) => {
    const r = await dryParse(s.kind === 'cli' ? s.args : []);
    expect(r.help || r.command).toBeTruthy();
  });

  it.each(ours.filter((s) => s.kind === 'nx').map((s) => [label(s), s] as const))('%s calls the CLI and parses', async (_, s) => {
    if (s.kind !== 'nx') return;
    const [project, target] = s.target.split(':');
    const pkg = readdirSync(join(root, 'packages'))
      .map((p) => join(root, 'packages', p, 'package.json'))
      .filter(existsSync)
      .map((f) => JSON.parse(readFileSync(f, 'utf8')))
      .find((p) => p.nx?.name === project);
    const command: string | undefined = pkg?.nx?.targets?.[target]?.options?.command;
    expect(command, `no Nx target ${s.target}`).toMatch(/^node packages\/cli\/bin\/cxr-ssl\.mjs \S+$/);
    const r = await dryParse([command!.split(' ').at(-1)!, ...s.args]);
    expect(r.command).toBe(command!.split(' ').at(-1));
  });

  it.each(ours.filter((s) => s.kind === 'path').map((s) => [label(s), s] as const))('%s names a file that exists', (_, s) => {
    expect(s.kind === 'path' && existsSync(join(root, s.path))).toBe(true);
  });

  it('link only to files and headings that exist (sections moved out of the README leave no dangling link)', () => {
    const broken = docs.flatMap((f) => {
      // code blocks and code spans show text, not links
      const text = readFileSync(join(root, f), 'utf8').replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
      return [...text.matchAll(/\]\(([^)\s]+)\)/g)]
        .map((m) => m[1])
        .filter((target) => !/^[a-z]+:/.test(target))
        .filter((target) => {
          const [path, anchor] = target.split('#');
          const file = path ? join(root, dirname(f), path) : join(root, f);
          if (!existsSync(file)) return true;
          return anchor !== undefined && !headingSlugs(readFileSync(file, 'utf8')).has(anchor);
        })
        .map((target) => `${f}: ${target}`);
    });
    expect(broken).toEqual([]);
  });

  it('npm test is the root package script that runs every lint, typecheck and test target', () => {
    expect(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts.test).toMatch(/nx run-many -t lint typecheck test/);
  });

  it.each(ours.filter((s) => s.kind === 'cli' && CHEAP.has(s.args[0])).map((s) => [label(s), s] as const))('%s runs', async (_, s) => {
    if (s.kind !== 'cli') return;
    const { opts } = await dryParse(s.args);
    for (const dir of ['fixtures', 'configs']) if (!existsSync(join(scratch, dir))) symlinkSync(join(root, dir), join(scratch, dir));
    const r = spawnSync(process.execPath, [BIN, ...s.args], { cwd: scratch, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    if (typeof opts?.out === 'string') expect(existsSync(join(scratch, opts.out))).toBe(true);
  });
});
