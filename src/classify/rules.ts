// The rule table: built-in rules from rules/builtin.yaml plus user rules from config, checked
// here for shape and compiled by RE2 in native/ (so no user pattern can backtrack). A rule's
// scoring metadata (type, category, strength, tier, weight, tags) stays on the TS side.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ClassifyError } from './errors.js';
import { repoRoot, type NativeRuleSpec } from './native.js';
import { isTier, type FindingCategory, type Tier } from './types.js';

/** A rule as written in builtin.yaml or in the config's `classify.rules`. */
export interface RuleSpec {
  id: string;
  pattern: string;
  /** Finding type reported (defaults to the id). */
  type?: string;
  category: Exclude<FindingCategory, 'column'>;
  validator?: string;
  group?: number;
  minEntropy?: number;
  rejectBefore?: string[];
  rejectAfter?: string[];
  /** pii only: strong = one occurrence decides, weak = needs corroboration (default strong for user rules). */
  strength?: 'strong' | 'weak';
  /** keyword only: the tier the keyword points to, and its weight (1 = decides alone). */
  tier?: Tier;
  weight?: number;
  tags?: string[];
  description?: string;
  /** Examples that must match / must not match (checked by the tests, not at run time). */
  matches?: string[];
  rejects?: string[];
}

export interface Rule extends Required<Pick<RuleSpec, 'id' | 'pattern' | 'category'>> {
  type: string;
  validator: string;
  group: number;
  minEntropy: number;
  rejectBefore: string[];
  rejectAfter: string[];
  strength: 'strong' | 'weak';
  tier: Tier;
  weight: number;
  tags: string[];
  matches: string[];
  rejects: string[];
  source: 'builtin' | 'user';
}

export interface ColumnDictionary {
  strong: Map<string, string>;
  weak: Map<string, string>;
}

const CATEGORIES = new Set(['pii', 'secret', 'keyword']);
const VALIDATORS = new Set(['', 'none', 'luhn', 'ssn', 'iban', 'email', 'phone', 'ipv4', 'ipv6', 'date', 'entropy', 'secret_value', 'jwt', 'aws_key_id', 'pem', 'pem_base64']);
const ID = /^[a-z0-9][a-z0-9_.-]{0,63}$/i;

function invalid(id: string, why: string): never {
  throw new ClassifyError('rule_invalid', `rule '${id}': ${why}`, { ruleId: id, reason: why });
}

function strings(id: string, field: string, v: unknown): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) invalid(id, `${field} must be a list of strings`);
  return v as string[];
}

/** Checks one rule's shape and fills defaults; throws ClassifyError(rule_invalid) naming the rule and why. */
export function normaliseRule(raw: unknown, source: 'builtin' | 'user'): Rule {
  if (typeof raw !== 'object' || raw === null) invalid('?', 'must be an object');
  const r = raw as Record<string, unknown>;
  const id = typeof r.id === 'string' ? r.id : '?';
  if (!ID.test(id)) invalid(id, 'id must be 1-64 characters of letters, digits, _ . -');
  if (typeof r.pattern !== 'string' || r.pattern.length === 0) invalid(id, 'pattern must be a non-empty string');
  if (typeof r.category !== 'string' || !CATEGORIES.has(r.category)) invalid(id, 'category must be pii, secret or keyword');
  const validator = r.validator === undefined ? '' : r.validator;
  if (typeof validator !== 'string' || !VALIDATORS.has(validator)) invalid(id, `unknown validator '${String(validator)}' (known: ${[...VALIDATORS].filter(Boolean).join(', ')})`);
  const num = (k: string, d: number, lo: number, hi: number): number => {
    const v = r[k];
    if (v === undefined) return d;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi) invalid(id, `${k} must be a number in [${lo}, ${hi}]`);
    return v;
  };
  const category = r.category as Rule['category'];
  const tier = r.tier === undefined ? (category === 'keyword' ? 'PROPRIETARY' : 'PROPRIETARY') : r.tier;
  if (!isTier(tier)) invalid(id, 'tier must be PUBLIC, INTERNAL or PROPRIETARY');
  const strength = r.strength === undefined ? 'strong' : r.strength;
  if (strength !== 'strong' && strength !== 'weak') invalid(id, 'strength must be strong or weak');
  if (r.type !== undefined && (typeof r.type !== 'string' || !/^[a-z0-9_]{1,64}$/.test(r.type))) invalid(id, 'type must be snake_case');
  const tags = strings(id, 'tags', r.tags).map((t) => t.toUpperCase());
  return {
    id,
    pattern: r.pattern,
    category,
    type: (r.type as string | undefined) ?? id.replace(/[^a-z0-9_]/gi, '_').toLowerCase(),
    validator,
    group: num('group', 0, 0, 15),
    minEntropy: num('minEntropy', 0, 0, 8),
    rejectBefore: strings(id, 'rejectBefore', r.rejectBefore),
    rejectAfter: strings(id, 'rejectAfter', r.rejectAfter),
    strength,
    tier,
    weight: num('weight', 1, 0, 100),
    tags: tags.length ? tags : category === 'secret' ? ['SECRET'] : category === 'pii' ? ['PII'] : [],
    matches: strings(id, 'matches', r.matches),
    rejects: strings(id, 'rejects', r.rejects),
    source,
  };
}

export function toNative(r: Rule): NativeRuleSpec {
  return {
    id: r.id,
    pattern: r.pattern,
    validator: r.validator,
    group: r.group,
    minEntropy: r.minEntropy,
    rejectBefore: r.rejectBefore,
    rejectAfter: r.rejectAfter,
    type: r.type,
    category: r.category,
  };
}

let builtin: { rules: Rule[]; columns: ColumnDictionary } | undefined;

export function builtinRulesFile(): string {
  return join(repoRoot(), 'src', 'classify', 'rules', 'builtin.yaml');
}

/** The built-in rule table and column dictionary (read once). */
export function loadBuiltin(): { rules: Rule[]; columns: ColumnDictionary } {
  if (builtin) return builtin;
  const file = builtinRulesFile();
  let doc: { rules?: unknown; columns?: { strong?: Record<string, string>; weak?: Record<string, string> } };
  try {
    doc = parse(readFileSync(file, 'utf8')) as typeof doc;
  } catch (err) {
    throw new ClassifyError('rules_unavailable', `cannot read the built-in rule table ${file}: ${(err as Error).message}`);
  }
  if (!Array.isArray(doc.rules)) throw new ClassifyError('rules_unavailable', `${file}: no rules list`);
  const rules = doc.rules.map((r) => normaliseRule(r, 'builtin'));
  const seen = new Set<string>();
  for (const r of rules) {
    if (seen.has(r.id)) invalid(r.id, 'duplicate id in builtin.yaml');
    seen.add(r.id);
  }
  builtin = {
    rules,
    columns: {
      strong: new Map(Object.entries(doc.columns?.strong ?? {})),
      weak: new Map(Object.entries(doc.columns?.weak ?? {})),
    },
  };
  return builtin;
}

/** Built-in rules followed by user rules; a user id may not shadow a built-in one. */
export function buildRuleTable(extra: RuleSpec[] = []): Rule[] {
  const base = loadBuiltin().rules;
  const ids = new Set(base.map((r) => r.id));
  const user = extra.map((r) => {
    const n = normaliseRule(r, 'user');
    if (ids.has(n.id)) invalid(n.id, 'id already used by another rule');
    ids.add(n.id);
    return n;
  });
  return [...base, ...user];
}
