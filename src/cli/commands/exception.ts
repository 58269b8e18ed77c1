// `lacuna-fs exception request|approve|deny|revoke|list`: time-limited, second-person
// approved exceptions, every change audited by the daemon.
import type { Command } from 'commander';
import { callControl, controlSocketPath } from '../../control/index.js';
import { configOption, controlCall, loadCliConfig } from '../context.js';

interface ExceptionRecord {
  id: string;
  path: string;
  dest: string;
  state: string;
  requested_by: string;
  approved_by?: string;
  expires_at?: string;
  ttl_s: number;
  justification: string;
}

function line(r: ExceptionRecord): string {
  const until = r.expires_at ? ` until ${r.expires_at}` : ` (ttl ${r.ttl_s}s once approved)`;
  return `${r.id}  ${r.state.padEnd(8)} ${r.path} → ${r.dest}  requested by ${r.requested_by}${r.approved_by ? `, approved by ${r.approved_by}` : ''}${r.state === 'approved' || r.state === 'pending' ? until : ''}\n    why: ${r.justification}`;
}

export function register(program: Command): void {
  const ex = program.command('exception').description('request, approve, deny, revoke and list exceptions to policy');
  const post = async (config: string | undefined, path: string, body: object) => {
    const c = loadCliConfig(config);
    return controlCall(() => callControl<ExceptionRecord>(controlSocketPath(c.runtimeDir), 'POST', path, body));
  };
  const show = (r: ExceptionRecord, json?: boolean): void => {
    process.stdout.write(json ? JSON.stringify(r) + '\n' : line(r) + '\n');
  };

  configOption(
    ex
      .command('request')
      .description('ask for an exception; an approver other than you must approve it')
      .requiredOption('--path <path>', 'the governed source (a trailing / covers a directory)')
      .requiredOption('--dest <path>', 'the destination file, or a directory ending in /')
      .requiredOption('--justification <text>', 'why you need it (recorded in the audit log)')
      .option('--ttl <duration>', 'how long it should last once approved: 90m, 24h, 7d', '24h')
      .option('--json', 'print JSON'),
  ).action(async (o: { config?: string; path: string; dest: string; justification: string; ttl: string; json?: boolean }) => {
    const r = await post(o.config, '/v1/exceptions', { path: o.path, dest: o.dest, justification: o.justification, ttl: o.ttl });
    show(r, o.json);
    if (!o.json) process.stdout.write(`an approver can run: lacuna-fs exception approve ${r.id}\n`);
  });

  configOption(ex.command('approve <id>').description('approve a pending exception (approvers only, never your own)').option('--ttl <duration>', 'override the validity').option('--json', 'print JSON')).action(
    async (id: string, o: { config?: string; ttl?: string; json?: boolean }) => show(await post(o.config, '/v1/exceptions/approve', { id, ttl: o.ttl }), o.json),
  );
  configOption(ex.command('deny <id>').description('deny a pending exception (approvers only)').option('--reason <text>', 'why', '').option('--json', 'print JSON')).action(
    async (id: string, o: { config?: string; reason: string; json?: boolean }) => show(await post(o.config, '/v1/exceptions/deny', { id, reason: o.reason }), o.json),
  );
  configOption(ex.command('revoke <id>').description('withdraw an exception (your own, or any as an approver)').option('--reason <text>', 'why', '').option('--json', 'print JSON')).action(
    async (id: string, o: { config?: string; reason: string; json?: boolean }) => show(await post(o.config, '/v1/exceptions/revoke', { id, reason: o.reason }), o.json),
  );
  configOption(ex.command('list').description('your exceptions (approvers see all)').option('--json', 'print JSON')).action(async (o: { config?: string; json?: boolean }) => {
    const c = loadCliConfig(o.config);
    const r = await controlCall(() => callControl<{ exceptions: ExceptionRecord[] }>(controlSocketPath(c.runtimeDir), 'GET', '/v1/exceptions'));
    if (o.json) process.stdout.write(JSON.stringify(r.exceptions, null, 2) + '\n');
    else process.stdout.write(r.exceptions.length ? r.exceptions.map(line).join('\n') + '\n' : 'No exceptions.\n');
  });
}
