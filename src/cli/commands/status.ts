// `lacuna-fs status` and `lacuna-fs why`: what the daemon is doing, and why the caller
// was blocked (only the caller's own denials: the daemon checks SO_PEERCRED).
import type { Command } from 'commander';
import { callControl, controlSocketPath } from '../../control/index.js';
import { renderStatus, type StatusReport } from '../../fs/status.js';
import { configOption, controlCall, loadCliConfig } from '../context.js';

export function register(program: Command): void {
  configOption(program.command('status').description("show the running daemon: mounts, mode, policy, decisions, denials, audit, lineage").option('--json', 'print JSON')).action(
    async (opts: { config?: string; json?: boolean }) => {
      const config = loadCliConfig(opts.config);
      const s = await controlCall(() => callControl<StatusReport>(controlSocketPath(config.runtimeDir), 'GET', '/v1/status'));
      process.stdout.write(opts.json ? JSON.stringify(s, null, 2) + '\n' : renderStatus(s));
    },
  );

  configOption(
    program
      .command('why')
      .description('explain your own recent denials: what was blocked, which policy, why, and how to proceed')
      .option('--last <n>', 'how many denials', '5')
      .option('--json', 'print JSON'),
  ).action(async (opts: { config?: string; last: string; json?: boolean }) => {
    const config = loadCliConfig(opts.config);
    const r = await controlCall(() => callControl<{ denials: unknown[]; text: string[] }>(controlSocketPath(config.runtimeDir), 'GET', `/v1/why?last=${encodeURIComponent(opts.last)}`));
    if (opts.json) process.stdout.write(JSON.stringify(r.denials, null, 2) + '\n');
    else process.stdout.write(r.text.length ? r.text.join('\n\n') + '\n' : 'No recent denials for you.\n');
  });

  configOption(program.command('metrics').description('print the daemon metrics in Prometheus text format')).action(async (opts: { config?: string }) => {
    const config = loadCliConfig(opts.config);
    process.stdout.write(await controlCall(() => callControl<string>(controlSocketPath(config.runtimeDir), 'GET', '/metrics')));
  });
}
