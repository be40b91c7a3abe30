import cliProgress from 'cli-progress';

/**
 * A progress bar on a terminal, plain periodic lines elsewhere (CI logs, pipes): long work always
 * shows rate, ETA and the numbers that matter (loss, accuracy).
 */
export interface Progress {
  update(done: number, fields?: Record<string, string | number>): void;
  /** a line of its own (e.g. an epoch's summary): above the bar on a terminal, between the periodic lines elsewhere */
  log(line: string): void;
  stop(): void;
}

/** "ETA 1m05s"; "--" until there is a rate to tell it from (never cli-progress's truncated "NFs" for infinity). */
export function etaText(done: number, total: number, seconds: number): string {
  if (done <= 0 || seconds <= 0) return '--';
  const left = Math.max(0, Math.round(((total - done) * seconds) / done));
  if (left >= 3600) return `${Math.floor(left / 3600)}h${String(Math.floor((left % 3600) / 60)).padStart(2, '0')}m`;
  if (left >= 60) return `${Math.floor(left / 60)}m${String(left % 60).padStart(2, '0')}s`;
  return `${left}s`;
}

/**
 * `from`: where the work starts (a resumed run: its checkpoint's step), so that rate and ETA count
 * only what is done from now on.
 */
export function progress(label: string, total: number, quiet = false, { from = 0, stream = process.stderr }: { from?: number; stream?: NodeJS.WriteStream } = {}): Progress {
  if (quiet) return { update() {}, log() {}, stop() {} };
  const started = performance.now();
  const seconds = () => (performance.now() - started) / 1000;
  const rateOf = (done: number) => ((done - from) / Math.max(1e-3, seconds())).toFixed(1);
  const eta = (done: number) => etaText(done - from, total - from, seconds());
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format: `${label.padEnd(18)} {bar} {percentage}% {value}/{total} | {rate}/s | ETA {eta_text} {info}`,
        stream,
        hideCursor: true,
        forceRedraw: true, // after a log line the bar is drawn again below it, though it has not changed
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, from, { rate: '0', eta_text: '--', info: '' });
    return {
      update(done, fields = {}) {
        bar.update(done, { rate: rateOf(done), eta_text: eta(done), info: formatFields(fields) });
      },
      log(line) {
        // over the bar's line; the bar follows on the next, whose start is saved (ESC 7) as the place
        // stop() returns to: else it would go back to where the bar began and overwrite these lines
        stream.write(`\r\x1b[2K${line}\n\x1b7`);
        bar.render();
      },
      stop: () => bar.stop(),
    };
  }
  let last = 0;
  return {
    update(done, fields = {}) {
      const now = performance.now();
      if (now - last < 5000 && done < total) return;
      last = now;
      stream.write(`${label}: ${done}/${total} (${rateOf(done)}/s, ETA ${eta(done)}) ${formatFields(fields)}\n`);
    },
    log: (line) => stream.write(`${line}\n`),
    stop() {},
  };
}

function formatFields(fields: Record<string, string | number>): string {
  return Object.entries(fields)
    .map(([k, v]) => `${k} ${typeof v === 'number' ? (Number.isInteger(v) ? v : v.toFixed(4)) : v}`)
    .join(' ');
}
