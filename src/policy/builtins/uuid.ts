// uuid.rfc4122 (random v4, stable per seed within one evaluation, as OPA caches
// it per query) and uuid.parse.

import { randomUUID } from 'node:crypto';
import type { Ctx } from '../eval/runtime.js';
import { str } from './args.js';
import { type BuiltinTable, def } from './types.js';

const perEval = new WeakMap<Ctx, Map<string, string>>();

export function register(t: BuiltinTable): void {
  def(
    t,
    'uuid.rfc4122',
    1,
    ([s], c) => {
      let root = c;
      while (root.parent) root = root.parent;
      let m = perEval.get(root);
      if (!m) {
        m = new Map();
        perEval.set(root, m);
      }
      const k = str(s!, 1);
      let u = m.get(k);
      if (!u) {
        u = randomUUID();
        m.set(k, u);
      }
      return u;
    },
    false,
  );
  def(t, 'uuid.parse', 1, ([s]) => {
    const x = str(s!, 1).toLowerCase().replace(/^urn:uuid:/, '').replace(/^\{(.*)\}$/, '$1');
    const hex = x.replace(/-/g, '');
    if (!/^[0-9a-f]{32}$/.test(hex) || (x.includes('-') && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(x))) return undefined;
    const version = parseInt(hex[12]!, 16);
    const vb = parseInt(hex[16]!, 16);
    const variant = vb < 8 ? 'Reserved, NCS backward compatibility' : vb < 12 ? 'RFC4122' : vb < 14 ? 'Reserved, Microsoft Corporation backward compatibility' : 'Reserved, reserved for future definition';
    return { version, variant };
  });
}
