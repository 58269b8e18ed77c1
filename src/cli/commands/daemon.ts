// `lacuna-fs mount` (run the daemon in the foreground) and `lacuna-fs stop`.
import type { Command } from 'commander';
import { runDaemon } from '../../fs/daemon.js';
import { MountpointError } from '../../fs/mount.js';
import { CliError, EXIT } from '../exit-codes.js';
import { callControl, controlSocketPath } from '../../control/index.js';
import { configOption, loadCliConfig, controlCall } from '../context.js';

export function register(program: Command): void {
  configOption(
    program
      .command('mount')
      .description('run the daemon in the foreground: mount every configured mount, serve the control socket, print "ready"')
      .option('--mode <mode>', 'override the config mode: enforce | monitor'),
  ).action(async (opts: { config?: string; mode?: string }) => {
    const config = loadCliConfig(opts.config);
    if (opts.mode) {
      if (opts.mode !== 'enforce' && opts.mode !== 'monitor') throw new CliError(`--mode must be enforce or monitor, got ${opts.mode}`, EXIT.USAGE);
      config.mode = opts.mode;
    }
    if (config.mounts.length === 0) {
      throw new CliError(`${config.file}: mounts: nothing to mount (declare at least one mount)`, EXIT.USAGE);
    }
    let d: Awaited<ReturnType<typeof runDaemon>>;
    try {
      d = await runDaemon(config);
    } catch (e) {
      // A bad mountpoint is a configuration problem with a plain answer, not an internal error.
      if (e instanceof MountpointError) throw new CliError(e.message, EXIT.USAGE);
      throw e;
    }
    const list = d.mounts.map((m) => `${m.view.config.mountpoint} (${m.view.config.zone})`).join(', ');
    process.stdout.write(`ready pid=${process.pid} mode=${config.mode} mounts=${list} socket=${controlSocketPath(config.runtimeDir)}\n`);
    // Keep running until a signal or `lacuna-fs stop`.
    await new Promise(() => {});
  });

  configOption(
    program
      .command('stop')
      .description('ask the running daemon to stop: finish in-flight operations, flush audit, unmount, exit')
      .option('--json', 'print the answer as JSON'),
  ).action(async (opts: { config?: string; json?: boolean }) => {
    const config = loadCliConfig(opts.config);
    const socket = controlSocketPath(config.runtimeDir);
    const answer = await controlCall(() => callControl<{ pid: number }>(socket, 'POST', '/v1/stop'));
    // Wait until the socket disappears, so scripts can rely on "stopped" after we return.
    for (let i = 0; i < 300; i++) {
      try {
        await callControl(socket, 'GET', '/v1/status', undefined, 1000);
      } catch {
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    process.stdout.write(opts.json ? JSON.stringify({ stopped: true, pid: answer.pid }) + '\n' : `stopped lacuna-fs (pid ${answer.pid})\n`);
  });
}

export function registerReload(program: Command): void {
  configOption(
    program
      .command('reload')
      .description('reload config and policies atomically; a bad one is rejected and the running one stays')
      .option('--json', 'print JSON'),
  ).action(async (opts: { config?: string; json?: boolean }) => {
    const config = loadCliConfig(opts.config);
    const r = await controlCall(() => callControl<{ policyHash: string; mode: string; restartNeeded: string[] }>(controlSocketPath(config.runtimeDir), 'POST', '/v1/reload'));
    if (opts.json) process.stdout.write(JSON.stringify(r) + '\n');
    else process.stdout.write(`reloaded: policy ${r.policyHash.slice(0, 12)}, mode ${r.mode}${r.restartNeeded.length ? ` (restart needed for: ${r.restartNeeded.join(', ')})` : ''}\n`);
  });
}
