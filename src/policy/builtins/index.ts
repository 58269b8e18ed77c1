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
import { register as bits } from './bits.js';
import { register as crypto } from './crypto.js';
import { register as encoding } from './encoding.js';
import { register as glob } from './glob.js';
import { register as graph } from './graph.js';
import { register as jsonpaths } from './jsonpaths.js';
import { register as net } from './net.js';
import { register as regex } from './regex.js';
import { register as semver } from './semver.js';
import { register as time } from './time.js';
import { register as units } from './units.js';
import { register as uuid } from './uuid.js';
import type { BuiltinTable } from './types.js';

export const BUILTINS: BuiltinTable = new Map();
for (const register of [comparison, arithmetic, sets, aggregates, strings, regex, glob, objects, typecheck, encoding, jsonpaths, time, net, units, semver, crypto, uuid, bits, graph, misc]) register(BUILTINS);
