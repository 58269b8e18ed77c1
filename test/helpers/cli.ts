// Runs one `lacuna-fs` command in-process, as src/cli/main.ts would: the command's
// stdout and stderr are captured, and the result carries the exit code main() returns
// (a CliError's code, 2 for a usage error found by commander, 0 for --help, otherwise
// process.exitCode as the command left it). Any other throw is a test failure.
import { Command, CommanderError } from 'commander';
import { CliError, EXIT } from '../../src/cli/exit-codes.js';

export interface CliRun {
  out: string;
  err: string;
  code: number;
}

export async function runCli(register: (program: Command) => void, args: string[]): Promise<CliRun> {
  let out = '';
  let err = '';
  const program = new Command('lacuna-fs').exitOverride().configureOutput({ writeOut: (s) => void (out += s), writeErr: (s) => void (err += s) });
  register(program);
  const ow = process.stdout.write.bind(process.stdout);
  const ew = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((s: string) => ((out += s), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => ((err += s), true)) as typeof process.stderr.write;
  const before = process.exitCode;
  process.exitCode = undefined;
  try {
    await program.parseAsync(args, { from: 'user' });
    return { out, err, code: Number(process.exitCode ?? EXIT.OK) };
  } catch (e) {
    if (e instanceof CliError) return { out, err: err + e.message, code: e.exitCode };
    if (e instanceof CommanderError) {
      const help = e.code === 'commander.helpDisplayed' || e.code === 'commander.help' || e.code === 'commander.version';
      return { out, err: err + (help ? '' : e.message), code: help ? EXIT.OK : EXIT.USAGE };
    }
    throw e;
  } finally {
    process.stdout.write = ow;
    process.stderr.write = ew;
    process.exitCode = before;
  }
}
