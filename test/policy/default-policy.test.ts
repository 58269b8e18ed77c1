// The shipped default bundle (policies/): its own Rego tests pass, and the
// decisions the daemon relies on hold for realistic inputs built in TypeScript.
import t from 'tap';
import { loadPolicyBundle, runPolicyTests } from '../../src/policy/index.js';

const POLICIES = new URL('../../policies', import.meta.url).pathname;

function input(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    action: 'create',
    mode: 'enforce',
    source: {
      tier: 'PROPRIETARY',
      tags: ['PII', 'FINANCE'],
      content: { tier: 'PUBLIC', tags: [], findings: [] },
      lineage: {
        tier: 'PROPRIETARY',
        tags: ['PII'],
        files: [{ path: '/governed/crm/customers.csv', mount: 'data', zone: 'governed', tier: 'PROPRIETARY', tags: ['PII'] }],
        copy_of: '/governed/crm/customers.csv',
        aggregate: false,
      },
    },
    destination: { path: '/export/customers.csv', mount: 'export', zone: 'export', zone_kind: 'unmanaged', encrypted: false, external: false, exists: false },
    user: { uid: 1000, gid: 1000, name: 'alice', groups: ['analysts'] },
    process: { pid: 4242, ppid: 4200, exe: '/usr/bin/cp', comm: 'cp' },
    time: { ns: 1795000000000000000n, rfc3339: '2026-11-23T14:02:03Z', hour: 14, weekday: 'Monday' },
    purpose: null,
    exceptions: [],
    ...over,
  };
}

t.test('every test_ rule in policies/lacuna_test.rego passes', async (t) => {
  const results = runPolicyTests(POLICIES);
  t.ok(results.length >= 30, `found ${results.length} tests`);
  for (const r of results) t.equal(r.outcome, 'pass', `${r.name}${r.message ? ': ' + r.message : ''}`);
});

t.test('a PROPRIETARY copy into an unmanaged zone is denied with actionable alternatives', async (t) => {
  const b = await loadPolicyBundle(POLICIES);
  const d = b.decide(input());
  t.equal(d.allow, false);
  t.equal(d.policy_id, 'proprietary-outside-governed');
  t.match(d.reasoning, /\/export\/customers\.csv/);
  t.match(d.reasoning, /\/governed\/crm\/customers\.csv/);
  t.ok(d.alternatives.includes('anonymise it first: lacuna-fs anonymize /governed/crm/customers.csv /governed/workspace/customers.csv'), 'anonymize takes IN and OUT positionally');
  t.notOk(d.alternatives.some((a) => a.includes('--out')));
  t.ok(d.alternatives.some((a) => a.includes('lacuna-fs exception request --path /governed/crm/customers.csv --dest /export/customers.csv')));
  t.same(d.obligations, []);
});

t.test('an approved exception passed as bigint nanoseconds allows the copy and says so', async (t) => {
  const b = await loadPolicyBundle(POLICIES);
  const ex = { id: 'ex-7f3a', path: '/governed/crm/customers.csv', dest: '/export/', expires_ns: 1795000000000000001n, requested_by: 'alice', approved_by: 'bob', justification: 'audit' };
  const d = b.decide(input({ exceptions: [ex] }));
  t.equal(d.allow, true);
  t.equal(d.policy_id, 'exception');
  t.match(d.reasoning, /ex-7f3a/);
  t.same(d.obligations, ['audit-exception:ex-7f3a']);
  // Exactly at expiry it no longer applies: the comparison is exact beyond 2^53.
  const expired = b.decide(input({ exceptions: [{ ...ex, expires_ns: 1795000000000000000n }] }));
  t.equal(expired.allow, false);
});

t.test('exceptions supplied as decision data (data.lacuna.exceptions) apply too', async (t) => {
  const b = await loadPolicyBundle(POLICIES);
  const ex = { id: 'ex-data', path: '/governed/crm/', dest: '/export/', expires_ns: 1795000000000000000n + 10n ** 12n, requested_by: 'alice', approved_by: 'bob' };
  t.equal(b.decide(input(), { lacuna: { exceptions: [ex] } }).allow, true);
  t.equal(b.decide(input()).allow, false, 'the data does not leak into later decisions');
});

t.test('the decision is deterministic across repeated calls (shared rule cache)', async (t) => {
  const b = await loadPolicyBundle(POLICIES);
  const inputs = [input(), input({ action: 'read' }), input({ destination: { ...(input().destination as object), zone_kind: 'governed' } })];
  const first = inputs.map((i) => b.decide(i));
  for (let k = 0; k < 50; k++) t.same(inputs.map((i) => b.decide(i)), first);
});

// Sources and content as the daemon builds them (src/fs/policy-input.ts): source.tier is
// max(content.tier, lineage.tier), findings carry type, category and count only.
type Content = { tier: string; tags: string[]; findings: { type: string; category: string; count: number }[] };
const TIERS = ['PUBLIC', 'INTERNAL', 'PROPRIETARY'];

function copyOf(content: Content, opts: { lineageTier?: string; aggregate?: boolean; zoneKind?: string } = {}): Record<string, unknown> {
  const lineageTier = opts.lineageTier ?? 'PUBLIC';
  const zoneKind = opts.zoneKind ?? 'unmanaged';
  const readme = '/governed/src/TypeScript/README.md';
  return input({
    source: {
      tier: TIERS[Math.max(TIERS.indexOf(content.tier), TIERS.indexOf(lineageTier))],
      tags: content.tags,
      content,
      lineage: {
        tier: lineageTier,
        tags: content.tags,
        files: [{ path: readme, mount: 'data', zone: 'governed', tier: lineageTier, tags: content.tags }],
        copy_of: readme,
        aggregate: opts.aggregate ?? false,
      },
    },
    destination: { path: '/export/README.md', mount: 'export', zone: zoneKind, zone_kind: zoneKind, encrypted: false, external: false, exists: false },
  });
}

t.test('a README with one contact email (content left PUBLIC by layer 1) may be copied to an unmanaged zone', async (t) => {
  const b = await loadPolicyBundle(POLICIES);
  const d = b.decide(copyOf({ tier: 'PUBLIC', tags: [], findings: [{ type: 'email', category: 'pii', count: 1 }] }));
  t.equal(d.allow, true, d.reasoning);
  t.equal(d.policy_id, 'tier-permits');
});

t.test('three validated SSNs (content PROPRIETARY) are denied outside governed zones, allowed inside', async (t) => {
  const b = await loadPolicyBundle(POLICIES);
  const ssns: Content = { tier: 'PROPRIETARY', tags: ['PII'], findings: [{ type: 'ssn', category: 'pii', count: 3 }] };
  const d = b.decide(copyOf(ssns));
  t.equal(d.allow, false);
  t.equal(d.policy_id, 'proprietary-outside-governed');
  t.equal(b.decide(copyOf(ssns, { zoneKind: 'governed' })).allow, true);
});

t.test('a CSV "ssn" column over data rows counts as personal data, so an aggregate of it is not downgraded', async (t) => {
  const b = await loadPolicyBundle(POLICIES);
  const column: Content = { tier: 'PROPRIETARY', tags: ['PII'], findings: [{ type: 'ssn', category: 'column', count: 1 }] };
  const d = b.decide(copyOf(column, { lineageTier: 'PROPRIETARY', aggregate: true }));
  t.equal(d.allow, false);
  t.equal(d.policy_id, 'proprietary-outside-governed');
  t.notOk(d.obligations.includes('set-tier:INTERNAL'));
});

t.test('weak personal data counts once the content is not PUBLIC (INTERNAL content into an internal zone)', async (t) => {
  const b = await loadPolicyBundle(POLICIES);
  const d = b.decide(copyOf({ tier: 'INTERNAL', tags: [], findings: [{ type: 'email', category: 'pii', count: 1 }] }, { zoneKind: 'internal' }));
  t.equal(d.allow, false);
  t.equal(d.policy_id, 'pii-in-content');
  t.match(d.reasoning, /personal data \(email\)/);
  t.equal(d.alternatives[0], 'anonymise it first: lacuna-fs anonymize /governed/src/TypeScript/README.md /governed/workspace/README.md');
});

t.test('a secret finding is denied whatever the content tier says', async (t) => {
  const b = await loadPolicyBundle(POLICIES);
  for (const tier of ['PROPRIETARY', 'PUBLIC']) {
    const d = b.decide(copyOf({ tier, tags: tier === 'PUBLIC' ? [] : ['SECRET'], findings: [{ type: 'aws_access_key', category: 'secret', count: 1 }] }));
    t.equal(d.allow, false, tier);
    t.equal(d.policy_id, 'secret-in-content', tier);
  }
});
