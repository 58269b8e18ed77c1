// Loads and validates the YAML config. Everything wrong is refused here, before anything
// is mounted, with the file, the key (and its line) and what is wrong; unknown keys are
// errors too, because a misspelt key silently ignored is a policy silently not applied.
import fs from 'node:fs';
import path from 'node:path';
import { LineCounter, parseDocument, type Document } from 'yaml';
import type { Config, MountConfig, PathRule, PrincipalSet, SubzoneConfig, UserRule, ZoneConfig, ZoneKind } from './types.js';
import { BUILTIN_ZONES, DEFAULTS } from './defaults.js';

export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly key: string,
    readonly problem: string,
    readonly line?: number,
  ) {
    super(`${file}${line ? `:${line}` : ''}: ${key ? `${key}: ` : ''}${problem}`);
    this.name = 'ConfigError';
  }
}

export const DEFAULT_CONFIG_PATH = '/etc/lacuna-fs/config.yaml';

/** --config wins, then LACUNA_FS_CONFIG, then the default path. */
export function resolveConfigPath(cliArg?: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(cliArg ?? env.LACUNA_FS_CONFIG ?? DEFAULT_CONFIG_PATH);
}

type Obj = Record<string, unknown>;

/** Walks the parsed YAML, remembering where each value came from for error messages. */
class Reader {
  constructor(
    private readonly file: string,
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  fail(keyPath: (string | number)[], problem: string): never {
    throw new ConfigError(this.file, render(keyPath), problem, this.lineOf(keyPath));
  }

  private lineOf(keyPath: (string | number)[]): number | undefined {
    for (let n = keyPath.length; n >= 0; n--) {
      const node = this.doc.getIn(keyPath.slice(0, n), true) as { range?: [number, number, number] } | undefined;
      if (node && node.range) return this.lines.linePos(node.range[0]).line;
    }
    return undefined;
  }

  object(v: unknown, at: (string | number)[], allowed: string[]): Obj {
    if (v === null || v === undefined) return {};
    if (typeof v !== 'object' || Array.isArray(v)) this.fail(at, `must be a mapping, got ${describe(v)}`);
    for (const key of Object.keys(v as Obj)) {
      if (!allowed.includes(key)) this.fail([...at, key], `unknown key (allowed here: ${allowed.join(', ')})`);
    }
    return v as Obj;
  }

  string(v: unknown, at: (string | number)[], fallback?: string): string {
    if (v === undefined || v === null) {
      if (fallback !== undefined) return fallback;
      this.fail(at, 'is required');
    }
    if (typeof v !== 'string' || v.length === 0) this.fail(at, `must be a non-empty string, got ${describe(v)}`);
    return v;
  }

  nullableString(v: unknown, at: (string | number)[]): string | null {
    if (v === undefined || v === null) return null;
    return this.string(v, at);
  }

  number(v: unknown, at: (string | number)[], fallback: number, min = 0): number {
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min) this.fail(at, `must be a number ≥ ${min}, got ${describe(v)}`);
    return v;
  }

  boolean(v: unknown, at: (string | number)[], fallback: boolean): boolean {
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'boolean') this.fail(at, `must be true or false, got ${describe(v)}`);
    return v;
  }

  oneOf<T extends string>(v: unknown, at: (string | number)[], choices: readonly T[], fallback?: T): T {
    if ((v === undefined || v === null) && fallback !== undefined) return fallback;
    if (typeof v !== 'string' || !choices.includes(v as T)) this.fail(at, `must be one of ${choices.join(' | ')}, got ${describe(v)}`);
    return v as T;
  }

  list(v: unknown, at: (string | number)[]): unknown[] {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) this.fail(at, `must be a list, got ${describe(v)}`);
    return v;
  }

  strings(v: unknown, at: (string | number)[]): string[] {
    return this.list(v, at).map((item, i) => this.string(item, [...at, i]));
  }
}

function render(keyPath: (string | number)[]): string {
  return keyPath.map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? k : `.${k}`)).join('');
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${JSON.stringify(v)}`;
}

const SIZE_UNITS: Record<string, number> = { '': 1, k: 1024, kb: 1024, kib: 1024, m: 1 << 20, mb: 1 << 20, mib: 1 << 20, g: 1 << 30, gb: 1 << 30, gib: 1 << 30 };

function parseSize(r: Reader, v: unknown, at: (string | number)[], fallback: number): number {
  if (v === undefined || v === null) return fallback;
  if (typeof v === 'number') return r.number(v, at, fallback, 1);
  const m = typeof v === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(v) : null;
  const unit = m ? SIZE_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) r.fail(at, `must be a size such as 8MiB, got ${describe(v)}`);
  return Math.floor(Number(m[1]) * unit);
}

/** Reads and validates a config file. Throws ConfigError. */
export function loadConfig(file: string): Config {
  const abs = path.resolve(file);
  let text: string;
  try {
    text = fs.readFileSync(abs, 'utf8');
  } catch (e) {
    throw new ConfigError(abs, '', `cannot read the config file (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  return parseConfig(text, abs);
}

/** Validates config text; `file` names it in errors and anchors relative paths. */
export function parseConfig(text: string, file: string): Config {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const err = doc.errors[0]!;
    const line = err.linePos?.[0]?.line ?? lines.linePos(err.pos[0]).line;
    throw new ConfigError(file, '', `not valid YAML: ${err.message.split('\n')[0]}`, line);
  }
  const raw = doc.toJS() as unknown;
  const r = new Reader(file, doc, lines);
  const baseDir = path.dirname(file);
  const absPath = (p: string) => path.resolve(baseDir, p);

  const top = r.object(raw, [], ['mode', 'stateDir', 'runtimeDir', 'policies', 'policy', 'mounts', 'zones', 'classify', 'audit', 'admins', 'approvers', 'metrics', 'log']);

  const zones = readZones(r, top.zones);
  const policyRaw = r.object(top.policy, ['policy'], ['entrypoint', 'engine']);
  const classifyRaw = r.object(top.classify, ['classify'], ['maxScanBytes', 'pathRules', 'rules', 'escalation', 'embeddings', 'llm', 'cacheDir', 'cacheMaxEntries']);
  const auditRaw = r.object(top.audit, ['audit'], ['postgres', 'checkpointEvery', 'checkpointSeconds', 'failClosed']);
  const metricsRaw = r.object(top.metrics, ['metrics'], ['listen']);
  const logRaw = r.object(top.log, ['log'], ['level']);

  const config: Config = {
    file,
    mode: r.oneOf(top.mode, ['mode'], ['enforce', 'monitor'] as const, DEFAULTS.mode),
    stateDir: absPath(r.string(top.stateDir, ['stateDir'], DEFAULTS.stateDir)),
    runtimeDir: absPath(r.string(top.runtimeDir, ['runtimeDir'], DEFAULTS.runtimeDir)),
    policy: {
      path: absPath(r.string(top.policies, ['policies'], DEFAULTS.policies)),
      entrypoint: r.string(policyRaw.entrypoint, ['policy', 'entrypoint'], 'lacuna/decision'),
      engine: r.oneOf(policyRaw.engine, ['policy', 'engine'], ['auto', 'rego', 'wasm'] as const, 'auto'),
    },
    mounts: r.list(top.mounts, ['mounts']).map((m, i) => readMount(r, m, ['mounts', i], zones, absPath)),
    zones,
    classify: {
      maxScanBytes: parseSize(r, classifyRaw.maxScanBytes, ['classify', 'maxScanBytes'], 8 << 20),
      pathRules: r.list(classifyRaw.pathRules, ['classify', 'pathRules']).map((p, i) => readPathRule(r, p, ['classify', 'pathRules', i])),
      rules: r.list(classifyRaw.rules, ['classify', 'rules']).map((p, i) => readUserRule(r, p, ['classify', 'rules', i])),
      escalation: optionalMapping(r, classifyRaw.escalation, ['classify', 'escalation']),
      embeddings: withSize(r, optionalMapping(r, classifyRaw.embeddings, ['classify', 'embeddings']), ['classify', 'embeddings']),
      llm: withSize(r, optionalMapping(r, classifyRaw.llm, ['classify', 'llm']), ['classify', 'llm']),
      cacheDir: classifyRaw.cacheDir === undefined || classifyRaw.cacheDir === null ? null : absPath(r.string(classifyRaw.cacheDir, ['classify', 'cacheDir'])),
      cacheMaxEntries: r.number(classifyRaw.cacheMaxEntries, ['classify', 'cacheMaxEntries'], 200_000, 1),
    },
    audit: {
      postgres: r.nullableString(auditRaw.postgres, ['audit', 'postgres']),
      checkpointEvery: r.number(auditRaw.checkpointEvery, ['audit', 'checkpointEvery'], 1000, 1),
      checkpointSeconds: r.number(auditRaw.checkpointSeconds, ['audit', 'checkpointSeconds'], 60, 1),
      failClosed: r.boolean(auditRaw.failClosed, ['audit', 'failClosed'], true),
    },
    admins: readPrincipals(r, top.admins, ['admins'], DEFAULTS.admins),
    approvers: readPrincipals(r, top.approvers, ['approvers'], DEFAULTS.approvers),
    metrics: { listen: r.nullableString(metricsRaw.listen, ['metrics', 'listen']) },
    log: { level: r.oneOf(logRaw.level, ['log', 'level'], ['trace', 'debug', 'info', 'warn', 'error'] as const, 'info') },
  };
  checkMounts(r, config.mounts);
  return config;
}

function optionalMapping(r: Reader, v: unknown, at: string[]): Record<string, unknown> | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'object' || Array.isArray(v)) r.fail(at, `must be a mapping, got ${describe(v)}`);
  return v as Record<string, unknown>;
}

/** Layers 2/3 take `maxBytes` as a number; the config, like every size here, may say "64KiB". */
function withSize(r: Reader, m: Record<string, unknown> | null, at: string[]): Record<string, unknown> | null {
  if (!m || m.maxBytes === undefined || m.maxBytes === null) return m;
  return { ...m, maxBytes: parseSize(r, m.maxBytes, [...at, 'maxBytes'], 0) };
}

function readZones(r: Reader, v: unknown): Record<string, ZoneConfig> {
  const zones: Record<string, ZoneConfig> = {};
  for (const [name, z] of Object.entries(BUILTIN_ZONES)) zones[name] = { ...z };
  if (v === undefined || v === null) return zones;
  if (typeof v !== 'object' || Array.isArray(v)) r.fail(['zones'], `must be a mapping of zone name to definition, got ${describe(v)}`);
  for (const [name, def] of Object.entries(v as Obj)) {
    if (!/^[a-z][a-z0-9_-]*$/.test(name)) r.fail(['zones', name], 'zone names are lower-case letters, digits, - and _');
    const z = r.object(def, ['zones', name], ['kind', 'encrypted', 'external', 'description']);
    const kind = r.oneOf(z.kind, ['zones', name, 'kind'], ['governed', 'internal', 'unmanaged', 'external'] as const, zones[name]?.kind) as ZoneKind;
    zones[name] = {
      name,
      kind,
      encrypted: r.boolean(z.encrypted, ['zones', name, 'encrypted'], kind === 'governed'),
      external: r.boolean(z.external, ['zones', name, 'external'], kind === 'external'),
      ...(z.description !== undefined ? { description: r.string(z.description, ['zones', name, 'description']) } : {}),
    };
  }
  return zones;
}

function readMount(r: Reader, v: unknown, at: (string | number)[], zones: Record<string, ZoneConfig>, absPath: (p: string) => string): MountConfig {
  const m = r.object(v, at, ['name', 'source', 'mountpoint', 'zone', 'subzones', 'attrTimeout', 'entryTimeout']);
  const name = r.string(m.name, [...at, 'name']);
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) r.fail([...at, 'name'], 'use letters, digits, ".", "_" and "-"');
  const zone = r.string(m.zone, [...at, 'zone']);
  if (!zones[zone]) r.fail([...at, 'zone'], `unknown zone "${zone}" (known: ${Object.keys(zones).join(', ')})`);
  const source = absPath(r.string(m.source, [...at, 'source']));
  const mountpoint = absPath(r.string(m.mountpoint, [...at, 'mountpoint']));
  let st: fs.Stats;
  try {
    st = fs.statSync(source);
  } catch {
    r.fail([...at, 'source'], `${source} does not exist`);
  }
  if (!st.isDirectory()) r.fail([...at, 'source'], `${source} is not a directory`);
  if (isWithin(mountpoint, source)) r.fail([...at, 'mountpoint'], `${mountpoint} is inside its own source ${source}: the mount would contain itself`);
  if (isWithin(source, mountpoint)) r.fail([...at, 'source'], `${source} is inside its mountpoint ${mountpoint}: it would be hidden by the mount`);
  const subzones: SubzoneConfig[] = r.list(m.subzones, [...at, 'subzones']).map((s, i) => {
    const sat = [...at, 'subzones', i];
    const sz = r.object(s, sat, ['path', 'zone']);
    const rel = r.string(sz.path, [...sat, 'path']).replace(/^\/+|\/+$/g, '');
    if (rel === '' || rel.split('/').some((part) => part === '..' || part === '.')) r.fail([...sat, 'path'], 'must be a relative path inside the mount, without . or ..');
    const z = r.string(sz.zone, [...sat, 'zone']);
    if (!zones[z]) r.fail([...sat, 'zone'], `unknown zone "${z}" (known: ${Object.keys(zones).join(', ')})`);
    return { path: rel, zone: z };
  });
  return {
    name,
    source,
    mountpoint,
    zone,
    subzones,
    attrTimeout: r.number(m.attrTimeout, [...at, 'attrTimeout'], 0),
    entryTimeout: r.number(m.entryTimeout, [...at, 'entryTimeout'], 1),
  };
}

function checkMounts(r: Reader, mounts: MountConfig[]): void {
  for (let i = 0; i < mounts.length; i++) {
    for (let j = 0; j < i; j++) {
      const a = mounts[i]!;
      const b = mounts[j]!;
      if (a.name === b.name) r.fail(['mounts', i, 'name'], `duplicate mount name "${a.name}" (also mounts[${j}])`);
      if (isWithin(a.mountpoint, b.mountpoint) || isWithin(b.mountpoint, a.mountpoint)) {
        r.fail(['mounts', i, 'mountpoint'], `${a.mountpoint} overlaps mounts[${j}] at ${b.mountpoint}`);
      }
      if (isWithin(a.mountpoint, b.source) || isWithin(b.mountpoint, a.source)) {
        r.fail(['mounts', i, 'mountpoint'], `mountpoint and source of mounts[${i}] and mounts[${j}] overlap: one would govern the other's data twice`);
      }
    }
  }
}

function readPathRule(r: Reader, v: unknown, at: (string | number)[]): PathRule {
  const p = r.object(v, at, ['glob', 'minTier', 'tags']);
  return {
    glob: r.string(p.glob, [...at, 'glob']),
    minTier: r.oneOf(p.minTier, [...at, 'minTier'], ['PUBLIC', 'INTERNAL', 'PROPRIETARY'] as const),
    tags: r.strings(p.tags, [...at, 'tags']),
  };
}

function readUserRule(r: Reader, v: unknown, at: (string | number)[]): UserRule {
  const p = r.object(v, at, ['id', 'pattern', 'category', 'tier', 'tags']);
  return {
    id: r.string(p.id, [...at, 'id']),
    pattern: r.string(p.pattern, [...at, 'pattern']),
    category: r.oneOf(p.category, [...at, 'category'], ['pii', 'secret', 'keyword'] as const, 'pii'),
    tier: r.oneOf(p.tier, [...at, 'tier'], ['PUBLIC', 'INTERNAL', 'PROPRIETARY'] as const, 'PROPRIETARY'),
    tags: r.strings(p.tags, [...at, 'tags']),
  };
}

function readPrincipals(r: Reader, v: unknown, at: string[], fallback: PrincipalSet): PrincipalSet {
  if (v === undefined || v === null) return { users: [...fallback.users], groups: [...fallback.groups] };
  const p = r.object(v, at, ['users', 'groups']);
  return { users: r.strings(p.users, [...at, 'users']), groups: r.strings(p.groups, [...at, 'groups']) };
}

/** True when `inner` is `outer` or below it. */
export function isWithin(inner: string, outer: string): boolean {
  const rel = path.relative(outer, inner);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** A config for commands run without any file (e.g. offline tools): defaults, no mounts. */
export function defaultConfig(): Config {
  return parseConfig('{}', '<defaults>');
}

