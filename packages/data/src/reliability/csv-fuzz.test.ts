import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ADAPTERS } from '../adapters/index.ts';
import type { Problem } from '../adapters/types.ts';
import { parseNihCsv } from '../nih-metadata.ts';
import { createRng } from '../rng.ts';

/**
 * Seeded random mutations of real manifests. "Clean" means: the parser either returns (every
 * problem's `where` is `<file>:<line>`) or throws a plain Error whose message names the file and
 * a line (`<file>:<n>`); never a TypeError/RangeError/SyntaxError or a message without a place.
 */
const tmp = mkdtempSync(join(tmpdir(), 'cxr-fuzz-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const NIH = readFileSync(join(import.meta.dirname, 'fixtures', 'nih-excerpt', 'Data_Entry_2017_v2020.csv'), 'utf8');
// the kermany labels.csv layout (../shared/data/kermany-pneumonia-224), rows naming fixture images
const KERMANY = [
  'path,split,label,abnormal',
  'train/NORMAL/IM-0115-0001.png,train,NORMAL,0',
  'train/NORMAL/IM-0117-0001.png,train,NORMAL,0',
  'train/PNEUMONIA/person1000_bacteria_2931.png,train,PNEUMONIA,1',
  'test/NORMAL/IM-0001-0001.png,test,NORMAL,0',
  'test/PNEUMONIA/person100_bacteria_475.png,test,PNEUMONIA,1',
  '"test/NORMAL/IM-0003-0001.png",test,"NORMAL",0',
].join('\n');

const INSERTS = ['"', ',', '\n', '\r\n', '\uFEFF', '\0', '""', ',,', '\r', 'é', '\uD800'];

type Rng = ReturnType<typeof createRng>;

function mutate(text: string, rng: Rng): string {
  let s = text;
  const n = 1 + rng.int(4);
  for (let k = 0; k < n && s.length > 0; k++) {
    const at = rng.int(s.length);
    switch (rng.int(6)) {
      case 0: // delete a run of characters
        s = s.slice(0, at) + s.slice(at + 1 + rng.int(8));
        break;
      case 1: // duplicate a run
        s = s.slice(0, at) + s.slice(at, at + 1 + rng.int(40)) + s.slice(at);
        break;
      case 2: {
        // swap two characters
        const b = rng.int(s.length);
        const c = [...s];
        [c[at], c[b]] = [c[b], c[at]];
        s = c.join('');
        break;
      }
      case 3:
        s = s.slice(0, at) + INSERTS[rng.int(INSERTS.length)] + s.slice(at);
        break;
      case 4: // truncate
        s = s.slice(0, at);
        break;
      default: // BOM or a quote at the very start
        s = (rng.int(2) ? '\uFEFF' : '"') + s;
    }
  }
  return s;
}

function expectClean(outcome: { problems: Problem[] } | Error, file: string, sample: string): void {
  const ctx = `mutated input: ${JSON.stringify(sample.slice(0, 300))}`;
  const place = new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+`);
  if (outcome instanceof Error) {
    expect(outcome.constructor, `${outcome.constructor.name}: ${outcome.message}\n${ctx}`).toBe(Error);
    expect(outcome.message, ctx).toMatch(place);
  } else {
    for (const p of outcome.problems) expect(p.where, ctx).toMatch(place);
  }
}

const CASES = 300;

describe('manifest parsers under random mutation (seeded)', () => {
  it(`parseNihCsv: ${CASES} mutations of a real Data_Entry_2017_v2020.csv excerpt fail cleanly or parse`, () => {
    const rng = createRng(20240501);
    const file = '/data/nih/Data_Entry_2017_v2020.csv';
    const kinds = { parsed: 0, rejected: 0 };
    for (let i = 0; i < CASES; i++) {
      const text = mutate(NIH, rng);
      let outcome: { problems: Problem[] } | Error;
      try {
        outcome = parseNihCsv(text, file);
        kinds.parsed++;
      } catch (e) {
        outcome = e as Error;
        kinds.rejected++;
      }
      expectClean(outcome, file, text);
    }
    // both outcomes occur: the mutations reach the error paths and the row paths
    expect(kinds.parsed).toBeGreaterThan(CASES / 10);
    expect(kinds.rejected).toBeGreaterThan(0);
  });

  it(`csv adapter: ${CASES} mutations of a kermany-style labels.csv fail cleanly or scan`, async () => {
    const rng = createRng(7);
    const opts = ADAPTERS.csv.options.parse({});
    const kinds = { scanned: 0, rejected: 0 };
    for (let i = 0; i < CASES; i++) {
      const text = mutate(KERMANY, rng);
      const file = join(tmp, `labels-${i}.csv`);
      writeFileSync(file, text);
      let outcome: { problems: Problem[] } | Error;
      try {
        outcome = await ADAPTERS.csv.scan(file, opts);
        kinds.scanned++;
      } catch (e) {
        outcome = e as Error;
        kinds.rejected++;
      }
      expectClean(outcome, file, text);
    }
    expect(kinds.scanned).toBeGreaterThan(CASES / 10);
    expect(kinds.rejected).toBeGreaterThan(0);
  });
});
