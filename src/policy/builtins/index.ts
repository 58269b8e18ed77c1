// The builtin table: only the list of families. Each family file registers its
// functions (name, arity, implementation) in `register`.

import { register as aggregates } from './aggregates.js';
import { register as arithmetic } from './arithmetic.js';
import { register as comparison } from './comparison.js';
import { register as misc } from './misc.js';
import { register as objects } from './objects.js';
import { register as sets } from './sets.js';
import { register as strings } from './strings.js';
import { register as typecheck } from './typecheck.js';
import type { BuiltinTable } from './types.js';

export const BUILTINS: BuiltinTable = new Map();
for (const register of [comparison, arithmetic, sets, aggregates, strings, objects, typecheck, misc]) register(BUILTINS);
