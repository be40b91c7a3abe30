import cliProgress from 'cli-progress';

/**
 * A progress bar on a terminal, plain periodic lines elsewhere (CI logs, pipes): long work always
 * shows rate, ETA and the numbers that matter (loss, accuracy).
 */
export interface Progress {
  update(done: number, fields?: Record<string, string | number>): void;
  /** a line of its own (above the bar on a terminal) */
  log(line: string): void;
  stop(): void;
}

export function progress(label: string, total: number, quiet = false): Progress {
  if (quiet) return { update() {}, log() {}, stop() {} };
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format: `${label.padEnd(18)} {bar} {percentage}% {value}/{total} | {rate}/s | ETA {eta_formatted} {info}`,
        stream: process.stderr,
        hideCursor: true,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    const started = performance.now();
    bar.start(total, 0, { rate: '0', info: '' });
    return {
      update(done, fields = {}) {
        const rate = (done / Math.max(1e-3, (performance.now() - started) / 1000)).toFixed(1);
        bar.update(done, { rate, info: formatFields(fields) });
      },
      log(line) {
        process.stderr.write(`\r\x1b[2K${line}\n`); // the bar redraws itself at its next update
      },
      stop: () => bar.stop(),
    };
  }
  let last = 0;
  const started = performance.now();
  return {
    update(done, fields = {}) {
      const now = performance.now();
      if (now - last < 5000 && done < total) return;
      last = now;
      const secs = (now - started) / 1000;
      const rate = done / Math.max(1e-3, secs);
      const eta = rate > 0 ? Math.round((total - done) / rate) : 0;
      process.stderr.write(`${label}: ${done}/${total} (${rate.toFixed(1)}/s, ETA ${eta}s) ${formatFields(fields)}\n`);
    },
    log(line) {
      process.stderr.write(`${line}\n`);
    },
    stop() {},
  };
}

function formatFields(fields: Record<string, string | number>): string {
  return Object.entries(fields)
    .map(([k, v]) => `${k} ${typeof v === 'number' ? (Number.isInteger(v) ? v : v.toFixed(4)) : v}`)
    .join(' ');
}
