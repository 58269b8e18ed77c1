// `lacuna-fs explain --from PATH --to PATH [--user U]`: the decision a copy would get.
import type { Command } from 'commander';
import { createClassifier } from '../../classify/index.js';
import { callControl, controlSocketPath, NoDaemonError } from '../../control/index.js';
import { explainCopy, ExplainError, renderExplanation, type Explanation } from '../../fs/explain.js';
import { uidOf } from '../../fs/callers.js';
import type { ClassifierPort } from '../../fs/services.js';
import { loadPolicyBundle } from '../../policy/index.js';
import { CliError, EXIT } from '../exit-codes.js';
import { configOption, controlCall, loadCliConfig } from '../context.js';

export function register(program: Command): void {
  configOption(
    program
      .command('explain')
      .description('show the decision a copy would get, with the reasoning and how to proceed, before trying it')
      .requiredOption('--from <path>', 'the file to copy')
      .requiredOption('--to <path>', 'where it would go')
      .option('--user <name>', 'decide for another user (admins only)')
      .option('--json', 'print JSON'),
  ).action(async (o: { config?: string; from: string; to: string; user?: string; json?: boolean }) => {
    const config = loadCliConfig(o.config);
    let e: Explanation;
    try {
      e = await callControl<Explanation>(controlSocketPath(config.runtimeDir), 'POST', '/v1/explain', { from: o.from, to: o.to, user: o.user });
    } catch (err) {
      if (!(err instanceof NoDaemonError)) return void (await controlCall(() => Promise.reject(err)));
      // No daemon: decide from config, policy and content alone.
      const uid = o.user ? uidOf(o.user) : process.getuid?.() ?? 0;
      if (uid === undefined) throw new CliError(`unknown user ${o.user}`, EXIT.USAGE);
      const policy = await loadPolicyBundle(config.policy.path, { entrypoint: config.policy.entrypoint, engine: config.policy.engine });
      const classifier = createClassifier({ pathRules: config.classify.pathRules, maxScanBytes: config.classify.maxScanBytes }) as ClassifierPort;
      try {
        e = await explainCopy({ config, policy, classifier }, o.from, o.to, uid);
      } catch (x) {
        if (x instanceof ExplainError) throw new CliError(x.message, EXIT.USAGE);
        throw x;
      }
    }
    process.stdout.write(o.json ? JSON.stringify(e, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2) + '\n' : renderExplanation(e));
    if (!e.decision.allow) process.exitCode = EXIT.FAILED;
  });
}
