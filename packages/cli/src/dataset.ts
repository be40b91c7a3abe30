import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { cacheFiles, type DatasetCache, openCache } from '@cxr-ssl/data';
import { MAX_PREPARE_SIZE, PrepareOptions, runPrepare } from './commands/prepare.ts';
import { UsageError, validate } from './config-file.ts';

/** The data set commands use when none is named: the bundled fixture, prepared on first use. */
export const EMBEDDED_DATA = 'kermany-mini';

/**
 * Opens the prepared set a command reads. The embedded default is prepared here when missing (a
 * few seconds); any other missing set is a usage error that gives the exact command to prepare it.
 */
export async function openPrepared(o: { cacheDir: string; data: string; size: number; quiet: boolean }): Promise<DatasetCache> {
  const dir = resolve(o.cacheDir);
  if (!existsSync(cacheFiles(dir, o.data, o.size).json)) {
    if (o.data !== EMBEDDED_DATA) {
      throw new UsageError(
        `data set '${o.data}' at ${o.size} px is not prepared in ${dir}: run \`cxr-ssl prepare --source <folder or csv> --name ${o.data} --sizes ${o.size} --cache-dir ${o.cacheDir}\` first`,
      );
    }
    if (o.size > MAX_PREPARE_SIZE) {
      throw new UsageError(`--size ${o.size}: the bundled fixture is prepared on first use at up to ${MAX_PREPARE_SIZE} px; choose a smaller --size (or run \`cxr-ssl prepare --sizes ${o.size} --allow-large-sizes --cache-dir ${o.cacheDir}\` first, which checks free disk and memory)`);
    }
    if (!o.quiet) process.stderr.write(`preparing the bundled fixture ${EMBEDDED_DATA} at ${o.size} px into ${dir} (first use)\n`);
    await runPrepare(validate(PrepareOptions, { sizes: [o.size], cacheDir: o.cacheDir, quiet: o.quiet }, `--size ${o.size} of the bundled fixture`));
  }
  return openCache(dir, o.data, o.size);
}
