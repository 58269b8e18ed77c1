// Runs a real lacuna-fs daemon (bin/lacuna-fs mount) as a child process on temporary
// directories, waits for its `ready` line, and always stops it and unmounts in teardown.
// Tests never touch the mount from this process's event loop while it could block: they
// act through real programs (cp, cat, mv, python3) spawned with spawnSync.
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = path.join(ROOT, 'bin', 'lacuna-fs');

export interface HarnessOptions {
  mode?: 'enforce' | 'monitor';
  /** Policy directory; defaults to the project's policies/. */
  policies?: string;
  /** Extra YAML appended at top level. */
  extraYaml?: string;
  /** Subzones of the data mount, e.g. [{path: 'shared', zone: 'internal'}]. */
  subzones?: Array<{ path: string; zone: string }>;
  /** Seed files in the data source dir: relative path → content. */
  files?: Record<string, string | Buffer>;
  /** Runs after the directories exist and before the daemon starts (e.g. to mount a tmpfs). */
  beforeStart?: (paths: { dir: string; state: string; data: string }) => void;
}

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface Harness {
  dir: string;
  /** Source of the governed mount and its mountpoint. */
  data: string;
  governed: string;
  /** Source of the unmanaged mount and its mountpoint. */
  exportSrc: string;
  exportMnt: string;
  state: string;
  run: string;
  config: string;
  daemon: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Runs a shell command in `dir`, with a timeout, as root or as another user. */
  sh(cmd: string, opts?: { user?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv }): RunResult;
  cli(args: string[], opts?: { user?: string }): RunResult;
  stop(): Promise<number | null>;
  kill9(): Promise<void>;
}

export interface TapLike {
  teardown(fn: () => unknown): void;
}

export function writeConfig(h: { dir: string; data: string; governed: string; exportSrc: string; exportMnt: string; state: string; run: string; config: string }, o: HarnessOptions): void {
  const subzones = o.subzones?.length ? `, subzones: [${o.subzones.map((s) => `{ path: ${s.path}, zone: ${s.zone} }`).join(', ')}]` : '';
  fs.writeFileSync(
    h.config,
    [
      `mode: ${o.mode ?? 'enforce'}`,
      `stateDir: ${h.state}`,
      `runtimeDir: ${h.run}`,
      `policies: ${o.policies ?? path.join(ROOT, 'policies')}`,
      'mounts:',
      `  - { name: data, source: ${h.data}, mountpoint: ${h.governed}, zone: governed${subzones} }`,
      `  - { name: export, source: ${h.exportSrc}, mountpoint: ${h.exportMnt}, zone: unmanaged }`,
      o.extraYaml ?? '',
      '',
    ].join('\n'),
  );
}

/** The test runner's environment minus its loader hooks, which must not leak into the daemon or CLI. */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k === 'NODE_OPTIONS' || k.startsWith('TAP') || k.startsWith('TS_NODE') || k.startsWith('_TAPJS')) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

function runSync(cmd: string, cwd: string, opts: { user?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): RunResult {
  const argv = opts.user ? ['runuser', '-u', opts.user, '--', 'env', '-u', 'NODE_OPTIONS', 'bash', '-c', cmd] : ['env', '-u', 'NODE_OPTIONS', 'bash', '-c', cmd];
  const r: SpawnSyncReturns<string> = spawnSync(argv[0]!, argv.slice(1), { cwd, encoding: 'utf8', timeout: opts.timeoutMs ?? 30_000, env: cleanEnv(opts.env) });
  return { status: r.status, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

export function lazyUnmount(mountpoint: string): void {
  spawnSync('umount', ['-l', mountpoint], { stdio: 'ignore' });
}

export function isMounted(mountpoint: string): boolean {
  const info = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  return info.split('\n').some((l) => l.split(' ')[4] === mountpoint);
}

/** Spawns the daemon and resolves once it printed `ready` (rejects with its stderr otherwise). */
export function spawnDaemon(config: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<{ child: ChildProcess; out: string[]; err: string[] }> {
  // tap's process-info hook re-injects NODE_OPTIONS into children; `env -u` drops it at exec.
  const child = spawn('env', ['-u', 'NODE_OPTIONS', process.execPath, BIN, 'mount', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'], env: cleanEnv(extraEnv) });
  const out: string[] = [];
  const err: string[] = [];
  child.stderr!.on('data', (c: Buffer) => err.push(c.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`daemon not ready after 30 s\nstderr: ${err.join('')}`)), 30_000);
    child.stdout!.on('data', (c: Buffer) => {
      out.push(c.toString());
      if (out.join('').includes('ready')) {
        clearTimeout(timer);
        resolve({ child, out, err });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`daemon exited with ${code} before ready\nstderr: ${err.join('')}`));
    });
  });
}

export function waitExit(child: ChildProcess, timeoutMs: number): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve(null);
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

export async function startDaemon(t: TapLike, o: HarnessOptions = {}): Promise<Harness> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lacuna-it-'));
  fs.chmodSync(dir, 0o755);
  const paths = {
    dir,
    data: path.join(dir, 'data'),
    governed: path.join(dir, 'governed'),
    exportSrc: path.join(dir, 'export'),
    exportMnt: path.join(dir, 'exportmnt'),
    state: path.join(dir, 'state'),
    run: path.join(dir, 'run'),
    config: path.join(dir, 'config.yaml'),
  };
  for (const d of [paths.data, paths.exportSrc]) fs.mkdirSync(d, { mode: 0o777 });
  fs.chmodSync(paths.data, 0o777);
  fs.chmodSync(paths.exportSrc, 0o777);
  for (const [rel, content] of Object.entries(o.files ?? {})) {
    const p = path.join(paths.data, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, content);
    fs.chmodSync(p, 0o644);
  }
  writeConfig(paths, o);
  o.beforeStart?.(paths);

  let current = await spawnDaemon(paths.config);
  let stopped = false;
  const h: Harness = {
    ...paths,
    get daemon() {
      return current.child;
    },
    stdout: () => current.out.join(''),
    stderr: () => current.err.join(''),
    sh: (cmd, opts) => runSync(cmd, dir, opts),
    cli: (args, opts) => runSync([process.execPath, BIN, ...args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`)].join(' '), dir, opts ?? {}),
    stop: async () => {
      stopped = true;
      current.child.kill('SIGTERM');
      return waitExit(current.child, 15_000);
    },
    kill9: async () => {
      current.child.kill('SIGKILL');
      await waitExit(current.child, 5000);
    },
  };
  // Restart support for crash tests: replace the child in place.
  (h as Harness & { restart(): Promise<void> }).restart = async () => {
    current = await spawnDaemon(paths.config);
    stopped = false;
  };
  t.teardown(async () => {
    if (!stopped) {
      current.child.kill('SIGTERM');
      await waitExit(current.child, 15_000);
    }
    lazyUnmount(paths.governed);
    lazyUnmount(paths.exportMnt);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return h;
}

export type RestartableHarness = Harness & { restart(): Promise<void> };

export const CUSTOMERS_CSV = [
  'customer_id,full_name,email,ssn,card_number',
  '1001,Alice Martin,alice.martin@example.com,536-22-8147,4111111111111111',
  '1002,Bob Okafor,bob.okafor@example.org,412-70-3391,5555555555554444',
  '1003,Chen Wei,chen.wei@example.net,287-65-4410,378282246310005',
  '',
].join('\n');

export const PUBLIC_TEXT = 'lacuna-fs release notes\n\nVersion 0.1 adds a status command and faster directory listings.\n';
