// The `lacuna-fs` command: one program, subcommands registered by their areas. Errors
// end with the exit codes of docs/CLI.md and a one-line message, never a stack trace.
import { Command, CommanderError } from 'commander';
import { CliError, EXIT } from './exit-codes.js';
import { COMMANDS } from './commands/index.js';

export async function main(argv: string[]): Promise<number> {
  const program = new Command('lacuna-fs')
    .description('data governance in the file system: classify, track lineage, decide by policy, enforce and audit every file operation')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const register of COMMANDS) register(program);
  try {
    await program.parseAsync(argv);
    return EXIT.OK;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help / --version are not errors.
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return EXIT.OK;
      return EXIT.USAGE;
    }
    if (e instanceof CliError) {
      process.stderr.write(`lacuna-fs: ${e.message}\n`);
      return e.exitCode;
    }
    process.stderr.write(`lacuna-fs: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return EXIT.INTERNAL;
  }
}

