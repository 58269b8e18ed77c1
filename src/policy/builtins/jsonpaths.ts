// json.filter, json.remove and json.patch (RFC 6902): document surgery by path.
// Paths are "a/b/c" strings (JSON-pointer escapes ~0 ~1) or arrays of keys.

import { BuiltinError } from '../errors.js';
import { RSet, type Value, equal, isObj, makeObj, objEntries, objGet } from '../value.js';
import { obj, typeErr } from './args.js';
import { type BuiltinTable, def } from './types.js';

interface PathTree {
  leaf: boolean;
  kids: Map<string, { key: Value; tree: PathTree }>;
}

function toPath(p: Value, pos: number): Value[] {
  if (typeof p === 'string') {
    const s = p.replace(/^\//, '');
    return s === '' ? [] : s.split('/').map((x) => x.replace(/~1/g, '/').replace(/~0/g, '~'));
  }
  if (Array.isArray(p)) return p;
  throw typeErr(pos, 'one of {set, array} containing string paths or array of path segments', p);
}

function buildTree(paths: Value, pos: number): PathTree {
  const xs = Array.isArray(paths) ? paths : paths instanceof RSet ? paths.sorted() : null;
  if (!xs) throw typeErr(pos, 'one of {set, array}', paths);
  const root: PathTree = { leaf: false, kids: new Map() };
  for (const p of xs) {
    let n = root;
    for (const k of toPath(p, pos)) {
      const ks = typeof k === 'string' ? k : JSON.stringify(k);
      let c = n.kids.get(ks);
      if (!c) {
        c = { key: k, tree: { leaf: false, kids: new Map() } };
        n.kids.set(ks, c);
      }
      n = c.tree;
    }
    n.leaf = true;
  }
  return root;
}

const keyStr = (k: Value): string => (typeof k === 'string' ? k : JSON.stringify(k));

function filter(v: Value, t: PathTree): Value | undefined {
  if (t.leaf) return v;
  if (isObj(v)) {
    const out: Array<[Value, Value]> = [];
    for (const [k, x] of objEntries(v)) {
      const c = t.kids.get(keyStr(k));
      if (!c) continue;
      const f = filter(x, c.tree);
      if (f !== undefined) out.push([k, f]);
    }
    return makeObj(out);
  }
  if (Array.isArray(v)) {
    const out: Value[] = [];
    v.forEach((x, i) => {
      const c = t.kids.get(String(i));
      if (!c) return;
      const f = filter(x, c.tree);
      if (f !== undefined) out.push(f);
    });
    return out;
  }
  if (v instanceof RSet) {
    const out = new RSet();
    for (const x of v.values()) {
      const c = t.kids.get(keyStr(x));
      if (c) out.add(x);
    }
    return out;
  }
  return undefined;
}

function remove(v: Value, t: PathTree): Value | undefined {
  if (t.leaf) return undefined;
  if (isObj(v)) {
    const out: Array<[Value, Value]> = [];
    for (const [k, x] of objEntries(v)) {
      const c = t.kids.get(keyStr(k));
      if (!c) out.push([k, x]);
      else {
        const r = remove(x, c.tree);
        if (r !== undefined) out.push([k, r]);
      }
    }
    return makeObj(out);
  }
  if (Array.isArray(v)) {
    const out: Value[] = [];
    v.forEach((x, i) => {
      const c = t.kids.get(String(i));
      if (!c) out.push(x);
      else {
        const r = remove(x, c.tree);
        if (r !== undefined) out.push(r);
      }
    });
    return out;
  }
  if (v instanceof RSet) {
    const out = new RSet();
    for (const x of v.values()) {
      const c = t.kids.get(keyStr(x));
      if (!c || !c.tree.leaf) out.add(x);
    }
    return out;
  }
  return v;
}

// ---------- json.patch ----------

function pointer(p: Value): Value[] {
  if (Array.isArray(p)) return p;
  if (typeof p !== 'string') throw new BuiltinError('patch path must be a string or an array');
  if (p === '') return [];
  // OPA accepts pointers with or without the leading slash.
  return p.replace(/^\//, '').split('/').map((x) => x.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function getAt(doc: Value, path: Value[]): Value | undefined {
  let cur: Value | undefined = doc;
  for (const k of path) {
    if (cur === undefined) return undefined;
    if (Array.isArray(cur)) {
      const i = typeof k === 'number' ? k : /^(0|[1-9]\d*)$/.test(String(k)) ? Number(k) : NaN;
      cur = Number.isInteger(i) ? cur[i] : undefined;
    } else if (isObj(cur)) cur = objGet(cur, k);
    else if (cur instanceof RSet) cur = cur.has(k) ? k : undefined;
    else return undefined;
  }
  return cur;
}

/** Returns a new document with `fn` applied to the container holding the last path element. */
function edit(doc: Value, path: Value[], fn: (parent: Value, key: Value) => Value): Value {
  if (!path.length) throw new BuiltinError('patch path must not be empty here');
  const [k, ...rest] = path as [Value, ...Value[]];
  if (!rest.length) return fn(doc, k);
  const child = getAt(doc, [k]);
  if (child === undefined) throw new BuiltinError(`path ${JSON.stringify(path)} does not exist`);
  const next = edit(child, rest, fn);
  if (Array.isArray(doc)) {
    const out = [...doc];
    out[Number(k)] = next;
    return out;
  }
  if (isObj(doc)) return makeObj([...objEntries(doc)].map(([kk, v]) => [kk, equal(kk, k) ? next : v]));
  throw new BuiltinError('patch path goes through a scalar');
}

function arrIndex(a: Value[], k: Value, forAdd: boolean): number {
  if (forAdd && k === '-') return a.length;
  const i = typeof k === 'number' ? k : /^(0|[1-9]\d*)$/.test(String(k)) ? Number(k) : NaN;
  if (!Number.isInteger(i) || i < 0 || i > a.length - (forAdd ? 0 : 1)) throw new BuiltinError(`index ${String(k)} out of range`);
  return i;
}

function addAt(doc: Value, path: Value[], value: Value): Value {
  if (!path.length) return value;
  return edit(doc, path, (parent, k) => {
    if (Array.isArray(parent)) {
      const out = [...parent];
      out.splice(arrIndex(parent, k, true), 0, value);
      return out;
    }
    if (isObj(parent)) return makeObj([...[...objEntries(parent)].filter(([kk]) => !equal(kk, k)), [k, value]]);
    if (parent instanceof RSet) {
      const out = new RSet(parent.values());
      out.add(value);
      return out;
    }
    throw new BuiltinError('cannot add to a scalar');
  });
}

function removeAt(doc: Value, path: Value[]): Value {
  return edit(doc, path, (parent, k) => {
    if (Array.isArray(parent)) {
      const out = [...parent];
      out.splice(arrIndex(parent, k, false), 1);
      return out;
    }
    if (isObj(parent)) {
      if (objGet(parent, k) === undefined) throw new BuiltinError(`path ${JSON.stringify(path)} does not exist`);
      return makeObj([...objEntries(parent)].filter(([kk]) => !equal(kk, k)));
    }
    if (parent instanceof RSet) {
      if (!parent.has(k)) throw new BuiltinError(`path ${JSON.stringify(path)} does not exist`);
      return new RSet([...parent.values()].filter((x) => !equal(x, k)));
    }
    throw new BuiltinError('cannot remove from a scalar');
  });
}

function applyPatch(doc: Value, op: Value): Value {
  if (!isObj(op)) throw new BuiltinError('each patch must be an object');
  const kind = objGet(op, 'op');
  const path = pointer(objGet(op, 'path') ?? null);
  const value = objGet(op, 'value');
  switch (kind) {
    case 'add':
      if (value === undefined) throw new BuiltinError('add needs a value');
      return addAt(doc, path, value);
    case 'remove':
      if (!path.length) throw new BuiltinError('cannot remove the whole document');
      return removeAt(doc, path);
    case 'replace': {
      if (value === undefined) throw new BuiltinError('replace needs a value');
      if (getAt(doc, path) === undefined) throw new BuiltinError('replace target does not exist');
      return path.length ? addAt(removeAt(doc, path), path, value) : value;
    }
    case 'move': {
      const from = pointer(objGet(op, 'from') ?? null);
      const v = getAt(doc, from);
      if (v === undefined) throw new BuiltinError('move source does not exist');
      return addAt(removeAt(doc, from), path, v);
    }
    case 'copy': {
      const v = getAt(doc, pointer(objGet(op, 'from') ?? null));
      if (v === undefined) throw new BuiltinError('copy source does not exist');
      return addAt(doc, path, v);
    }
    case 'test': {
      const v = getAt(doc, path);
      if (v === undefined || value === undefined || !equal(v, value)) throw new BuiltinError('test failed');
      return doc;
    }
    default:
      throw new BuiltinError(`unknown patch op ${JSON.stringify(kind)}`);
  }
}

export function register(t: BuiltinTable): void {
  def(t, 'json.filter', 2, ([o, p]) => filter(obj(o!, 1), buildTree(p!, 2)) ?? {});
  def(t, 'json.remove', 2, ([o, p]) => remove(obj(o!, 1), buildTree(p!, 2)) ?? {});
  def(t, 'json.patch', 2, ([d, ps]) => {
    if (!Array.isArray(ps)) throw typeErr(2, 'array', ps!);
    let doc: Value = d!;
    try {
      for (const p of ps) doc = applyPatch(doc, p);
    } catch (e) {
      // OPA: a patch that cannot apply makes the call undefined.
      if (e instanceof BuiltinError) return undefined;
      throw e;
    }
    return doc;
  });
}
