import { TorchPythonError } from '@cxr-ssl/torch';
import { Command, CommanderError } from 'commander';
import { demo } from './commands/demo.ts';
import { evalCommand } from './commands/eval.ts';
import { exportCommand } from './commands/export.ts';
import { importWeights } from './commands/import-weights.ts';
import { linear } from './commands/linear.ts';
import { prepare } from './commands/prepare.ts';
import { pretext } from './commands/pretext.ts';
import { reproduce } from './commands/reproduce.ts';
import { samples } from './commands/samples.ts';
import { explainCommand } from './commands/explain.ts';
import { type CommandSpec, commandFlags } from './command.ts';
import { InterruptedError, UsageError, readConfigFile, validate } from './config-file.ts';

export const COMMANDS: CommandSpec[] = [prepare, pretext, linear, evalCommand, reproduce, samples, explainCommand, importWeights, exportCommand, demo] as CommandSpec[];

export function buildProgram(): Command {
  const program = new Command('cxr-ssl')
    .description('Self-supervised pretraining on chest X-rays and evaluation of the encoders')
    .exitOverride()
    // one line per usage error (commander's own, e.g. an unknown flag), then exit 2 like every other usage error
    .configureOutput({ outputError: (str, write) => write(`cxr-ssl: ${str.replace(/^error: /, '').trim()} (--help lists the options)\n`) });
  for (const spec of COMMANDS) {
    const cmd = program.command(spec.name).description(spec.summary);
    cmd.option('--config <file>', 'YAML or JSON file of options (flags given here override it)');
    for (const [f, help] of commandFlags(spec)) cmd.option(f, help);
    if (spec.positional) cmd.argument(`[${spec.positional.name}]`);
    const help = flagHelp(spec);
    cmd.action(async (...args: unknown[]) => {
      const positional = spec.positional && typeof args[0] === 'string' ? { [spec.positional.option]: args[0] } : {};
      const flags = { ...positional, ...(args[spec.positional ? 1 : 0] as Record<string, unknown>) };
      const { config, ...given } = flags;
      if (spec.ownsConfig) {
        await spec.run(validate(spec.schema, flags, 'flags', help));
        return;
      }
      const fromFile = typeof config === 'string' ? readConfigFile(config) : {};
      const opts = validate(spec.schema, { ...fromFile, ...given }, typeof config === 'string' ? `${config} + flags` : 'flags', help);
      await spec.run(opts);
    });
  }
  return program;
}

/** Each flag's help by option name ('--batch-size <n>' -> batchSize), for error messages. */
function flagHelp(spec: CommandSpec): Record<string, string> {
  const entries = commandFlags(spec).map(([f, help]) => [f.replace(/^--([\w-]+).*$/, '$1').replace(/-(\w)/g, (_, c: string) => c.toUpperCase()), help]);
  return Object.fromEntries(entries);
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    // --help and --version end with 0; every other commander error is a usage error
    if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2);
    if (err instanceof InterruptedError) {
      process.stderr.write(`cxr-ssl: ${err.message}\n`);
      process.exit(err.exitCode); // 128 + the signal, as a shell reports a command stopped by it (130: Ctrl-C)
    }
    // a wrong --python is found where the engine starts, below the CLI: still the user's option
    if (err instanceof UsageError || err instanceof TorchPythonError) {
      process.stderr.write(`cxr-ssl: ${err.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`cxr-ssl: ${(err as Error).message ?? err}\n`);
    if (process.env.CXR_SSL_DEBUG) process.stderr.write(`${(err as Error).stack}\n`);
    process.exit(1);
  }
}
