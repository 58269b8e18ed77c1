// What every CLI command shares: the --config option, config loading with the right
// exit code, and turning control-socket failures into exit codes.
import type { Command } from 'commander';
import { ConfigError, loadConfig, resolveConfigPath, type Config } from '../config/index.js';
import { ControlResponseError, NoDaemonError } from '../control/index.js';
import { CliError, EXIT } from './exit-codes.js';

export function configOption(cmd: Command): Command {
  return cmd.option('-c, --config <file>', 'config file (default: $LACUNA_FS_CONFIG or /etc/lacuna-fs/config.yaml)');
}

export function loadCliConfig(file?: string): Config {
  try {
    return loadConfig(resolveConfigPath(file));
  } catch (e) {
    if (e instanceof ConfigError) throw new CliError(`invalid config: ${e.message}`, EXIT.USAGE);
    throw e;
  }
}

export async function controlCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof NoDaemonError) throw new CliError(`lacuna-fs is not running: ${e.message}`, EXIT.NO_DAEMON);
    if (e instanceof ControlResponseError && e.status === 403) throw new CliError(e.message, EXIT.FORBIDDEN);
    if (e instanceof ControlResponseError && e.status < 500) throw new CliError(e.message, EXIT.USAGE);
    throw e;
  }
}
