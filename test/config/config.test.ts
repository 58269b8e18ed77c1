import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseConfig, loadConfig, resolveConfigPath, ConfigError } from '../../src/config/index.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lacuna-config-'));
t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
const data = path.join(dir, 'data');
const exp = path.join(dir, 'export');
fs.mkdirSync(data);
fs.mkdirSync(exp);
const file = path.join(dir, 'config.yaml');

function good(extra = ''): string {
  return `mode: enforce
stateDir: ${dir}/state
runtimeDir: ${dir}/run
policies: ${dir}/policies
mounts:
  - { name: data, source: ${data}, mountpoint: ${dir}/governed, zone: governed, subzones: [{ path: shared, zone: internal }] }
  - { name: export, source: ${exp}, mountpoint: ${dir}/exportmnt, zone: unmanaged }
audit:
  postgres: null
${extra}`;
}

function refusal(text: string): ConfigError {
  try {
    parseConfig(text, file);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('config was accepted');
}

t.test('a valid config resolves zones, subzones and defaults', async (t) => {
  const c = parseConfig(good(), file);
  t.equal(c.mode, 'enforce');
  t.equal(c.mounts.length, 2);
  t.equal(c.mounts[0]!.zone, 'governed');
  t.same(c.mounts[0]!.subzones, [{ path: 'shared', zone: 'internal' }]);
  t.equal(c.zones.unmanaged!.kind, 'unmanaged');
  t.equal(c.zones.governed!.encrypted, true);
  t.equal(c.audit.postgres, null);
  t.equal(c.audit.failClosed, true);
  t.equal(c.policy.entrypoint, 'lacuna/decision');
  t.equal(c.classify.maxScanBytes, 8 << 20);
});

t.test('an unknown key is refused with its name, line and the allowed keys', async (t) => {
  const e = refusal(good('mountz: []\n'));
  t.equal(e.key, 'mountz');
  t.equal(e.line, 10);
  t.match(e.message, /unknown key \(allowed here: mode, stateDir/);
  t.match(e.message, new RegExp(`^${file}:10: mountz:`));
});

t.test('a missing source is refused naming the mount key and the path', async (t) => {
  const e = refusal(good().replace(`source: ${exp}`, `source: ${dir}/nope`));
  t.equal(e.key, 'mounts[1].source');
  t.match(e.problem, /nope does not exist/);
});

t.test('a mountpoint inside its own source is refused', async (t) => {
  const e = refusal(good().replace(`mountpoint: ${dir}/exportmnt`, `mountpoint: ${exp}/inner`));
  t.equal(e.key, 'mounts[1].mountpoint');
  t.match(e.problem, /inside its own source/);
});

t.test('overlapping mountpoints are refused', async (t) => {
  const e = refusal(good().replace(`mountpoint: ${dir}/exportmnt`, `mountpoint: ${dir}/governed/sub`));
  t.equal(e.key, 'mounts[1].mountpoint');
  t.match(e.problem, /overlaps mounts\[0\]/);
});

t.test('an unknown zone is refused and the known zones are listed', async (t) => {
  const e = refusal(good().replace('zone: unmanaged', 'zone: downloads'));
  t.equal(e.key, 'mounts[1].zone');
  t.match(e.problem, /unknown zone "downloads" \(known: governed, internal, unmanaged, external\)/);
});

t.test('custom zones can be declared and used', async (t) => {
  const c = parseConfig(good('zones:\n  downloads: { kind: unmanaged }\n').replace('zone: unmanaged', 'zone: downloads'), file);
  t.equal(c.mounts[1]!.zone, 'downloads');
  t.equal(c.zones.downloads!.kind, 'unmanaged');
});

t.test('wrong value types and bad YAML are refused with a position', async (t) => {
  t.match(refusal(good().replace('mode: enforce', 'mode: block')).message, /mode: must be one of enforce \| monitor, got string "block"/);
  t.match(refusal(good('classify: { maxScanBytes: lots }\n')).message, /classify\.maxScanBytes: must be a size such as 8MiB/);
  const e = refusal('mounts: [\n  { name: x\n');
  t.match(e.problem, /not valid YAML/);
  t.ok(e.line);
});

t.test('sizes accept units', async (t) => {
  t.equal(parseConfig(good('classify: { maxScanBytes: 2MiB }\n'), file).classify.maxScanBytes, 2 << 20);
  const c = parseConfig(good('classify: { embeddings: { maxBytes: 64KiB }, llm: { maxBytes: 8192 } }\n'), file);
  t.equal(c.classify.embeddings?.maxBytes, 64 * 1024, 'layer 2 receives a number');
  t.equal(c.classify.llm?.maxBytes, 8192);
  t.match(refusal(good('classify: { embeddings: { maxBytes: lots } }\n')).message, /classify\.embeddings\.maxBytes: must be a size such as 8MiB/);
});

t.test('a missing config file is a ConfigError naming the file', async (t) => {
  t.throws(() => loadConfig(path.join(dir, 'absent.yaml')), { name: 'ConfigError', message: /absent\.yaml: cannot read the config file \(ENOENT\)/ });
  fs.writeFileSync(file, good());
  t.equal(loadConfig(file).mounts.length, 2);
});

t.test('--config wins over LACUNA_FS_CONFIG, which wins over the default', async (t) => {
  t.equal(resolveConfigPath('/a.yaml', { LACUNA_FS_CONFIG: '/b.yaml' }), '/a.yaml');
  t.equal(resolveConfigPath(undefined, { LACUNA_FS_CONFIG: '/b.yaml' }), '/b.yaml');
  t.equal(resolveConfigPath(undefined, {}), '/etc/lacuna-fs/config.yaml');
});
