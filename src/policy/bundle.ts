// Reads a policy bundle (a directory or an OPA bundle .tar.gz) into memory:
// Rego modules, data documents placed by their directory, optional policy.wasm
// and .manifest, and the bundle hash (sha256 over files in path order).

import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { PolicyError } from './errors.js';
import { parseJSON } from './json.js';
import { readTarGz } from './tarball.js';
import { type Value, fromJS } from './value.js';

export interface BundleFile {
  /** Path inside the bundle, `/`-separated. */
  path: string;
  data: Buffer;
}

export interface BundleContents {
  source: string;
  files: BundleFile[];
  modules: Array<{ path: string; text: string }>;
  tests: Array<{ path: string; text: string }>;
  data: Value;
  wasm: Buffer | null;
  manifest: Record<string, unknown> | null;
  hash: string;
}

function listDir(root: string): BundleFile[] {
  const out: BundleFile[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.name.startsWith('.') && e.name !== '.manifest') continue;
      if (e.name === 'node_modules') continue;
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push({ path: relative(root, p).split(sep).join('/'), data: readFileSync(p) });
    }
  };
  walk(root);
  return out;
}

/** Places a data document at the directory path of its file (OPA's loader convention). */
function placeData(root: Record<string, Value>, filePath: string, doc: Value, source: string): void {
  const dirs = filePath.split('/').slice(0, -1).filter((d) => d && d !== '.');
  let cur = root;
  for (const d of dirs) {
    const next = cur[d];
    if (next === undefined) cur[d] = {};
    else if (typeof next !== 'object' || next === null || Array.isArray(next)) {
      throw new PolicyError('bundle_error', `${source}: data at ${dirs.join('/')} conflicts with a non-object value`);
    }
    cur = cur[d] as Record<string, Value>;
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    if (!dirs.length) throw new PolicyError('bundle_error', `${source}: ${filePath}: root data document must be an object`);
    const parent = dirs.slice(0, -1).reduce<Record<string, Value>>((o, d) => o[d] as Record<string, Value>, root);
    parent[dirs[dirs.length - 1]!] = doc;
    return;
  }
  for (const [k, v] of Object.entries(doc)) {
    const prev = cur[k];
    if (prev !== undefined && typeof prev === 'object' && prev !== null && !Array.isArray(prev) && typeof v === 'object' && v !== null && !Array.isArray(v)) {
      placeData(root, `${[...dirs, k].join('/')}/x`, v, source);
    } else cur[k] = v;
  }
}

export function readBundle(path: string): BundleContents {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    throw new PolicyError('bundle_error', `${path}: ${(e as Error).message}`);
  }
  let files: BundleFile[];
  if (st.isDirectory()) files = listDir(path);
  else if (/\.(tar\.gz|tgz)$/.test(path)) files = readTarGz(readFileSync(path), path);
  else if (path.endsWith('.rego')) files = [{ path: path.split(sep).pop()!, data: readFileSync(path) }];
  else throw new PolicyError('bundle_error', `${path}: expected a directory, a .rego file or an OPA bundle .tar.gz`);
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));

  const modules: Array<{ path: string; text: string }> = [];
  const tests: Array<{ path: string; text: string }> = [];
  const data: Record<string, Value> = {};
  let wasm: Buffer | null = null;
  let manifest: Record<string, unknown> | null = null;
  const hash = createHash('sha256');
  const loc = (f: BundleFile): string => (st.isDirectory() ? join(path, f.path) : `${path}:${f.path}`);
  for (const f of files) {
    const base = f.path.split('/').pop()!;
    if (f.path === '.manifest' || f.path.endsWith('/.manifest')) {
      try {
        manifest = JSON.parse(f.data.toString('utf8')) as Record<string, unknown>;
      } catch (e) {
        throw new PolicyError('bundle_error', `${loc(f)}: invalid manifest: ${(e as Error).message}`);
      }
    } else if (base.endsWith('_test.rego')) {
      tests.push({ path: loc(f), text: f.data.toString('utf8') });
      continue; // tests do not change decisions, so they do not change the hash
    } else if (base.endsWith('.rego')) modules.push({ path: loc(f), text: f.data.toString('utf8') });
    else if (base.endsWith('.json')) {
      let doc: Value;
      try {
        doc = parseJSON(f.data.toString('utf8'));
      } catch (e) {
        throw new PolicyError('bundle_error', `${loc(f)}: ${(e as Error).message}`);
      }
      placeData(data, f.path, doc, path);
    } else if (base.endsWith('.yaml') || base.endsWith('.yml')) {
      let doc: Value;
      try {
        doc = fromJS(parseYaml(f.data.toString('utf8'), { intAsBigInt: true }));
      } catch (e) {
        throw new PolicyError('bundle_error', `${loc(f)}: ${(e as Error).message}`);
      }
      placeData(data, f.path, doc, path);
    } else if (base === 'policy.wasm' || base.endsWith('.wasm')) wasm = f.data;
    else continue;
    hash.update(f.path).update('\0').update(String(f.data.length)).update('\0').update(f.data);
  }
  return { source: path, files, modules, tests, data, wasm, manifest, hash: hash.digest('hex') };
}
