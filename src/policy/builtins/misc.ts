// Builtins with no better family: print and trace (no-ops that succeed; the
// daemon has no policy console) and opa.runtime.

import { type BuiltinTable, def } from './types.js';

export function register(t: BuiltinTable): void {
  def(t, 'print', -1, () => true, false);
  def(t, 'trace', 1, () => true, false);
  def(t, 'opa.runtime', 0, () => ({ env: {}, version: 'lacuna-fs' }), false);
}
