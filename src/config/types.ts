// The validated configuration every area reads. Produced only by load.ts; all paths are
// absolute and every mount's zone is resolved to its definition.

export type Mode = 'enforce' | 'monitor';
export type ZoneKind = 'governed' | 'internal' | 'unmanaged' | 'external';
export type Tier = 'PUBLIC' | 'INTERNAL' | 'PROPRIETARY';

export interface ZoneConfig {
  name: string;
  kind: ZoneKind;
  encrypted: boolean;
  external: boolean;
  description?: string;
}

export interface SubzoneConfig {
  /** Relative to the mount root, e.g. "shared" or "export/public". */
  path: string;
  zone: string;
}

export interface MountConfig {
  name: string;
  source: string;
  mountpoint: string;
  zone: string;
  subzones: SubzoneConfig[];
  /** Seconds the kernel may cache attributes; 0 keeps link counts exact (see docs/CONFIG.md). */
  attrTimeout: number;
  entryTimeout: number;
}

export interface PathRule {
  glob: string;
  minTier: Tier;
  tags: string[];
}

export interface UserRule {
  id: string;
  pattern: string;
  category: 'pii' | 'secret' | 'keyword';
  tier: Tier;
  tags: string[];
}

export interface ClassifyConfig {
  maxScanBytes: number;
  pathRules: PathRule[];
  rules: UserRule[];
  /** Layer 2/3 settings are passed through to src/classify/escalate (documented in docs/EMBEDDINGS.md). */
  escalation: Record<string, unknown> | null;
  embeddings: Record<string, unknown> | null;
  llm: Record<string, unknown> | null;
  cacheDir: string | null;
  cacheMaxEntries: number;
}

export interface AuditConfig {
  postgres: string | null;
  checkpointEvery: number;
  checkpointSeconds: number;
  /** When the spool cannot be written, deny governed writes (true) or keep serving (false). */
  failClosed: boolean;
}

export interface PrincipalSet {
  users: string[];
  groups: string[];
}

export interface PolicyConfig {
  /** A directory of .rego/.json files or an OPA bundle (.tar.gz). */
  path: string;
  entrypoint: string;
  engine: 'auto' | 'rego' | 'wasm';
}

export interface MetricsConfig {
  /** "127.0.0.1:9464" to serve Prometheus text on TCP; null serves it only on the control socket. */
  listen: string | null;
}

export interface Config {
  /** The file this was loaded from (absolute), or "<defaults>". */
  file: string;
  mode: Mode;
  stateDir: string;
  runtimeDir: string;
  policy: PolicyConfig;
  mounts: MountConfig[];
  zones: Record<string, ZoneConfig>;
  classify: ClassifyConfig;
  audit: AuditConfig;
  admins: PrincipalSet;
  approvers: PrincipalSet;
  metrics: MetricsConfig;
  log: { level: 'trace' | 'debug' | 'info' | 'warn' | 'error' };
}
