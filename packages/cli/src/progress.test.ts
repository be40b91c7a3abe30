import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { etaText, progress } from './progress.ts';
import { screen } from './reliability/screen.ts';

/** A stream that says it is a terminal and keeps what is written to it. */
function fakeTerminal() {
  let written = '';
  const stream = new Writable({
    write(chunk, _enc, done) {
      written += chunk;
      done();
    },
  }) as unknown as NodeJS.WriteStream;
  Object.assign(stream, { isTTY: true, columns: 160 });
  return { stream, text: () => written };
}

describe('progress in a terminal', () => {
  it('shows a log line above the bar and keeps it after stop; the ETA is -- until a step is done, never NFs', () => {
    const t = fakeTerminal();
    const bar = progress('rotation', 6, false, { stream: t.stream });
    bar.update(0);
    expect(screen(t.text()).at(-1)).toMatch(/^rotation .* 0% 0\/6 \| [\d.]+\/s \| ETA --/);
    bar.update(3, { loss: 1.5 });
    bar.log('epoch 1: loss 1.5000 acc 0.250 val acc 0.321 lr 3.75e-2');
    bar.update(6, { loss: 1.2 });
    bar.log('epoch 2: loss 1.2000 acc 0.300 val acc 0.400 lr 3.35e-3');
    bar.stop();
    t.stream.write('encoder written\n');
    const lines = screen(t.text()).filter(Boolean);
    expect(lines[0]).toBe('epoch 1: loss 1.5000 acc 0.250 val acc 0.321 lr 3.75e-2');
    expect(lines[1]).toBe('epoch 2: loss 1.2000 acc 0.300 val acc 0.400 lr 3.35e-3');
    expect(lines[2]).toMatch(/^rotation .* 100% 6\/6 \| [\d.]+\/s \| ETA 0s loss 1\.2000$/);
    expect(lines[3]).toBe('encoder written');
    expect(lines).toHaveLength(4);
    expect(t.text()).not.toContain('NF');
  });
});

describe('etaText', () => {
  it('-- with nothing done; then the remaining time at the rate so far', () => {
    expect(etaText(0, 10, 5)).toBe('--');
    expect(etaText(1, 10, 0)).toBe('--');
    expect(etaText(5, 10, 5)).toBe('5s');
    expect(etaText(1, 100, 1)).toBe('1m39s');
    expect(etaText(1, 10_000, 1)).toBe('2h46m');
    expect(etaText(10, 10, 3)).toBe('0s');
  });
});
