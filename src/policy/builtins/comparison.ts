// Comparison operators: total over all values (OPA's ordering), never errors.

import { compare, equal } from '../value.js';
import { type BuiltinTable, def } from './types.js';

export function register(t: BuiltinTable): void {
  def(t, 'equal', 2, ([a, b]) => equal(a!, b!));
  def(t, 'neq', 2, ([a, b]) => !equal(a!, b!));
  def(t, 'lt', 2, ([a, b]) => compare(a!, b!) < 0);
  def(t, 'lte', 2, ([a, b]) => compare(a!, b!) <= 0);
  def(t, 'gt', 2, ([a, b]) => compare(a!, b!) > 0);
  def(t, 'gte', 2, ([a, b]) => compare(a!, b!) >= 0);
}
