// The decision document: how an entrypoint's value becomes a Decision, and the
// fail-closed shapes for undefined results and evaluation errors.

import { type PlainObj, type RObj, RSet, type Value, isObj, objGet, stringify, toJSON } from './value.js';

export interface Decision {
  allow: boolean;
  policy_id: string;
  reasoning: string;
  alternatives: string[];
  obligations: string[];
}

function strings(v: Value | undefined): string[] {
  if (v === undefined || v === null) return [];
  if (Array.isArray(v)) {
    // The usual case, a list of strings: copied whole (the policy's values may be cached and shared).
    let allStrings = true;
    for (let i = 0; i < v.length; i++) {
      if (typeof v[i] !== 'string') {
        allStrings = false;
        break;
      }
    }
    if (allStrings) return v.slice() as string[];
  }
  // A set: its members in order, as JSON values (sets inside become arrays); any other value is one entry.
  const xs = Array.isArray(v) ? v : v instanceof RSet ? (toJSON(v) as Value[]) : [v];
  const out: string[] = [];
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i]!;
    out.push(typeof x === 'string' ? x : stringify(x));
  }
  return out;
}

/** Maps an entrypoint value to a Decision; anything but `allow: true` denies. */
export function toDecision(v: Value | undefined, entrypoint: string): Decision {
  if (v === undefined) {
    return {
      allow: false,
      policy_id: 'undefined-decision',
      reasoning: `the policy gave no decision (data.${entrypoint.replace(/\//g, '.')} is undefined for this input); denied by default`,
      alternatives: [],
      obligations: [],
    };
  }
  if (typeof v === 'boolean') {
    return { allow: v, policy_id: entrypoint, reasoning: v ? 'allowed by policy' : 'denied by policy', alternatives: [], obligations: [] };
  }
  if (!isObj(v)) {
    return {
      allow: false,
      policy_id: 'policy-error',
      reasoning: `the decision must be an object or a boolean, got ${stringify(v).slice(0, 200)}; denied`,
      alternatives: [],
      obligations: [],
    };
  }
  if (v.constructor === Object) {
    // A plain object: each field read in place, by name (one inline cache per field; none of
    // these names is inherited, so a missing field reads undefined).
    const o = v as PlainObj;
    return fromFields(o.allow, o.policy_id, o.reasoning, o.alternatives, o.obligations, entrypoint);
  }
  const r = v as RObj;
  return fromFields(objGet(r, 'allow'), objGet(r, 'policy_id'), objGet(r, 'reasoning'), objGet(r, 'alternatives'), objGet(r, 'obligations'), entrypoint);
}

function fromFields(allow: Value | undefined, id: Value | undefined, why: Value | undefined, alternatives: Value | undefined, obligations: Value | undefined, entrypoint: string): Decision {
  return {
    allow: allow === true,
    policy_id: typeof id === 'string' ? id : entrypoint,
    reasoning: typeof why === 'string' ? why : allow === true ? 'allowed by policy' : 'denied by policy',
    alternatives: strings(alternatives),
    obligations: strings(obligations),
  };
}

export function errorDecision(err: unknown): Decision {
  const msg = err instanceof Error ? err.message : String(err);
  return { allow: false, policy_id: 'policy-error', reasoning: `policy evaluation failed, denied (fail closed): ${msg}`, alternatives: [], obligations: [] };
}
