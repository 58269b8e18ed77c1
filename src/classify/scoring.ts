// Layer-1 tier mapping: turns scanner hits, column evidence and file facts into a
// Classification. The rules are documented in docs/CLASSIFICATION.md ("Tier mapping"); keep
// the two in step. Reasoning names what was found and on which lines, never the value.
import type { BinaryInfo } from './binary.js';
import type { ColumnEvidence } from './columns.js';
import type { RawFinding } from './native.js';
import type { Rule } from './rules.js';
import { maxTier, tierRank, type Classification, type Finding, type Tier } from './types.js';

/** L1 results at or above this confidence are decisive: no escalation to layers 2/3. */
export const DECISIVE = 0.8;
/** Distinct weak-PII values (emails, phones, IPs) that make a file personal data on their own. */
export const WEAK_PII_THRESHOLD = 3;

export interface ScanEvidence {
  raw: RawFinding[];
  rules: Rule[];
  columns?: ColumnEvidence;
  binary?: BinaryInfo;
  bytesScanned: number;
  totalBytes: number;
  /** Only the head and tail were scanned (byte budget). */
  partial: boolean;
}

const LABELS: Record<string, [string, string]> = {
  email: ['email address', 'email addresses'],
  phone: ['phone number', 'phone numbers'],
  ssn: ['US social security number', 'US social security numbers'],
  credit_card: ['payment card number', 'payment card numbers'],
  iban: ['IBAN', 'IBANs'],
  ip_address: ['public IP address', 'public IP addresses'],
  date_of_birth: ['date of birth', 'dates of birth'],
  aws_access_key: ['AWS access key ID', 'AWS access key IDs'],
  aws_secret_key: ['AWS secret access key', 'AWS secret access keys'],
  github_token: ['GitHub token', 'GitHub tokens'],
  slack_token: ['Slack token', 'Slack tokens'],
  slack_webhook: ['Slack webhook URL', 'Slack webhook URLs'],
  private_key: ['private key', 'private keys'],
  jwt: ['JSON Web Token', 'JSON Web Tokens'],
  google_api_key: ['Google API key', 'Google API keys'],
  stripe_key: ['Stripe secret key', 'Stripe secret keys'],
  password: ['password assignment', 'password assignments'],
  generic_secret: ['secret or token assignment', 'secret or token assignments'],
  credentials_in_url: ['URL with embedded credentials', 'URLs with embedded credentials'],
  bearer_token: ['bearer token', 'bearer tokens'],
};

function label(type: string, n: number): string {
  const l = LABELS[type];
  if (l) return n === 1 ? l[0] : l[1];
  const t = type.replace(/_/g, ' ');
  return n === 1 ? t : `${t} matches`;
}

function where(lines: number[] | undefined, binary: boolean): string {
  if (binary) return ' in printable runs of binary content';
  const known = (lines ?? []).filter((l) => l > 0);
  const unknown = (lines ?? []).some((l) => l === 0);
  if (known.length === 0) return unknown ? ' in the tail of the file' : '';
  const uniq = [...new Set(known)];
  return (uniq.length === 1 ? ' (line ' : ' (lines ') + uniq.join(', ') + (unknown ? ', and in the tail' : '') + ')';
}

interface Agg {
  type: string;
  category: Rule['category'];
  count: number;
  distinct: number;
  lines: number[];
  strength: Rule['strength'];
  tags: Set<string>;
  saturated: boolean;
}

/** "3 email addresses", or "at least 64 email addresses" when the scanner stopped counting. */
function counted(a: Agg): string {
  return `${a.saturated ? 'at least ' : ''}${a.count} ${label(a.type, a.count)}`;
}

function human(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

export function score(ev: ScanEvidence): Classification {
  const binary = ev.binary?.binary === true;
  const byType = new Map<string, Agg>();
  let rejected = 0;
  const keywordWeight: Record<Tier, number> = { PUBLIC: 0, INTERNAL: 0, PROPRIETARY: 0 };
  const keywordTypes: Record<Tier, Set<string>> = { PUBLIC: new Set(), INTERNAL: new Set(), PROPRIETARY: new Set() };
  for (const f of ev.raw) {
    const rule = ev.rules[f.rule];
    if (!rule) continue;
    if (rule.category !== 'keyword') rejected += f.rejected;
    if (f.count === 0) continue;
    const key = `${rule.category}:${rule.type}`;
    let a = byType.get(key);
    if (!a) {
      a = { type: rule.type, category: rule.category, count: 0, distinct: 0, lines: [], strength: rule.strength, tags: new Set(), saturated: false };
      byType.set(key, a);
    }
    a.count += f.count;
    a.distinct += f.distinct;
    a.lines.push(...f.lines);
    a.saturated = a.saturated || f.saturated === true;
    if (rule.strength === 'strong') a.strength = 'strong';
    rule.tags.forEach((t) => a.tags.add(t));
    if (rule.category === 'keyword') {
      // Repetition counts with diminishing returns (at most twice the weight): one weak word
      // repeated through a text about it ("trade secrets ...") must not decide alone, while
      // distinct markings add up.
      keywordWeight[rule.tier] += rule.weight * (1 + 0.5 * (Math.min(f.count, 3) - 1));
      keywordTypes[rule.tier].add(rule.type);
    }
  }
  const aggs = [...byType.values()].sort((x, y) => {
    const o = { secret: 0, pii: 1, keyword: 2 } as const;
    const strong = (a: Agg) => (a.category === 'pii' && a.strength === 'weak' ? 1 : 0);
    return o[x.category] - o[y.category] || strong(x) - strong(y) || y.count - x.count;
  });
  for (const a of aggs) a.lines = [...new Set(a.lines)].sort((x, y) => (x || Infinity) - (y || Infinity)).slice(0, 5);

  const findings: Finding[] = aggs.map((a) => ({ type: a.type, category: a.category, count: a.count, ...(a.lines.length ? { lines: a.lines.filter((l) => l > 0) } : {}) }));
  for (const f of findings) if (f.lines && f.lines.length === 0) delete f.lines;

  let tier: Tier = 'PUBLIC';
  let confidence = 0;
  const tags = new Set<string>();
  const reasons: string[] = [];
  const raise = (t: Tier, c: number) => {
    if (tierRank(t) > tierRank(tier)) {
      tier = t;
      confidence = c;
    } else if (t === tier) confidence = Math.max(confidence, c);
  };

  const secrets = aggs.filter((a) => a.category === 'secret');
  const strongPii = aggs.filter((a) => a.category === 'pii' && a.strength === 'strong');
  const weakPii = aggs.filter((a) => a.category === 'pii' && a.strength === 'weak');
  const weakDistinct = weakPii.reduce((s, a) => s + Math.max(1, a.distinct), 0);
  const cols = ev.columns && ev.columns.dataRows > 0 ? ev.columns : undefined;
  const weakColTypes = new Set(cols?.weak.map((c) => c.type) ?? []);
  const kwAny = keywordWeight.INTERNAL + keywordWeight.PROPRIETARY;

  if (secrets.length) {
    raise('PROPRIETARY', 0.95);
    secrets.forEach((a) => a.tags.forEach((t) => tags.add(t)));
    reasons.push('secrets: ' + secrets.map((a) => `${counted(a)}${where(a.lines, binary)}`).join('; '));
  }
  if (strongPii.length) {
    raise('PROPRIETARY', 0.95);
    strongPii.forEach((a) => a.tags.forEach((t) => tags.add(t)));
  }
  // Context keywords (tier PUBLIC: "Mobile:", "emergency contact") only ever corroborate weak PII.
  const context = aggs.filter((a) => a.category === 'keyword' && keywordTypes.PUBLIC.has(a.type));
  const weakDecides =
    weakDistinct >= WEAK_PII_THRESHOLD ||
    (weakPii.length > 0 && (weakColTypes.size > 0 || (cols?.strong.length ?? 0) > 0 || kwAny >= 1 || strongPii.length > 0 || context.length > 0));
  if (weakPii.length && weakDecides) {
    raise('PROPRIETARY', weakDistinct >= WEAK_PII_THRESHOLD ? 0.85 : 0.8);
    tags.add('PII');
  }
  const piiAggs = [...strongPii, ...weakPii];
  if (piiAggs.length) {
    const text = piiAggs.map((a) => `${counted(a)}${where(a.lines, binary)}`).join('; ');
    const corroborated = context.length && !strongPii.length && weakDistinct < WEAK_PII_THRESHOLD ? `, next to a personal-field label${where(context.flatMap((a) => a.lines), binary)}` : '';
    if (strongPii.length || weakDecides) reasons.push('personal data: ' + text + corroborated);
    else reasons.push(`weak personal-data signal only (${text}; fewer than ${WEAK_PII_THRESHOLD} distinct values and nothing corroborating)`);
  }
  if (cols && (cols.strong.length || weakColTypes.size >= 2)) {
    raise('PROPRIETARY', 0.9);
    tags.add('PII');
    if (cols.strong.some((c) => c.type === 'credit_card')) tags.add('PCI');
    if (cols.strong.some((c) => c.type === 'bank_account' || c.type === 'salary')) tags.add('FINANCIAL');
    if (cols.strong.some((c) => c.type === 'health')) tags.add('HEALTH');
  }
  if (cols && (cols.strong.length || cols.weak.length)) {
    const named = [...cols.strong, ...cols.weak].map((c) => `"${c.header}" (column ${c.column})`).join(', ');
    reasons.push(`table header names personal-data columns ${named} over ${cols.dataRows} data row${cols.dataRows === 1 ? '' : 's'}`);
    for (const c of [...cols.strong, ...cols.weak]) findings.push({ type: c.type, category: 'column', count: 1, lines: [1] });
  }
  if (keywordWeight.PROPRIETARY >= 1) {
    raise('PROPRIETARY', Math.min(0.95, 0.75 + 0.1 * keywordWeight.PROPRIETARY));
    tags.add('CONFIDENTIAL');
  } else if (kwAny >= 1) {
    raise('INTERNAL', Math.min(0.9, 0.75 + 0.1 * kwAny));
  }
  const kws = aggs.filter((a) => a.category === 'keyword' && !keywordTypes.PUBLIC.has(a.type));
  if (kws.length) {
    const text = kws.map((a) => `${label(a.type, a.count)}${a.count > 1 ? ` x${a.count}` : ''}${where(a.lines, binary)}`).join('; ');
    reasons.push(kwAny >= 1 ? `confidentiality markings: ${text}` : `weak confidentiality wording only (${text})`);
  }

  if (tier === 'PUBLIC') {
    // Nothing decisive: low confidence so the escalation hook (embeddings, LLM) gets a say.
    confidence = piiAggs.length || kws.length ? 0.4 : binary ? 0.3 : 0.5;
    if (!reasons.length) reasons.push(`no personal data, secrets or confidentiality markings found in ${human(ev.bytesScanned)}`);
  }
  if (rejected > 0) reasons.push(`${rejected} look-alike candidate${rejected === 1 ? '' : 's'} rejected by validators`);
  if (binary) reasons.unshift(`binary content${ev.binary?.format ? ` (${ev.binary.format})` : ''}: scanned printable runs only`);
  if (ev.partial) {
    reasons.push(`scanned ${human(ev.bytesScanned)} of ${human(ev.totalBytes)} (head and tail within the byte budget)`);
    if (tier === 'PUBLIC') confidence *= 0.8;
  }
  const result: Classification = {
    tier,
    tags: [...tags].sort(),
    confidence: Math.round(confidence * 100) / 100,
    layer: 1,
    reasoning: reasons.map((r) => r[0]!.toUpperCase() + r.slice(1)).join('. ') + '.',
    findings,
  };
  if (ev.partial || binary) result.partial = true;
  return result;
}

/** Combines a content classification with path-rule floors (layer 0 when the path decides). */
export function applyPathRules(c: Classification, matched: { glob: string; minTier: Tier; tags: string[] }[]): Classification {
  if (!matched.length) return c;
  let tier = c.tier;
  const tags = new Set(c.tags);
  const why: string[] = [];
  for (const m of matched) {
    m.tags.forEach((t) => tags.add(t.toUpperCase()));
    if (tierRank(m.minTier) > tierRank(tier)) why.push(`path rule ${m.glob} sets at least ${m.minTier}`);
    tier = maxTier(tier, m.minTier);
  }
  const raised = tier !== c.tier;
  return {
    ...c,
    tier,
    tags: [...tags].sort(),
    confidence: raised ? 1 : c.confidence,
    layer: raised ? 0 : c.layer,
    reasoning: why.length ? `${why.join('; ')}. Content: ${c.reasoning}` : c.reasoning,
  };
}
