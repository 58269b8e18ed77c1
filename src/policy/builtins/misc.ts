// Builtins with no better family: print and trace (no-ops that succeed; the
// daemon has no policy console) and opa.runtime.

import { BuiltinError } from '../errors.js';
import { type BuiltinTable, def } from './types.js';

export function register(t: BuiltinTable): void {
  def(t, 'print', -1, () => true, false);
  def(t, 'trace', 1, () => true, false);
  // No OPA runtime configuration exists here; like OPA without one, the document is empty.
  def(t, 'opa.runtime', 0, () => ({}), false);
  // Declared so policies that mock it with `with` compile; a real call is refused because a
  // decision on the file-system hot path must never wait on the network.
  def(
    t,
    'http.send',
    1,
    () => {
      throw new BuiltinError('http.send is disabled in lacuna-fs: decisions never make network requests');
    },
    false,
  );
}
