// The group-commit batch writes each record's line and computes its hash from the bytes it stores
// (placeholder hash member, hashed without it, digits written over it). The line and hash must be
// exactly what buildRecord gives for the same record, with the audit addon and without it.
import t from 'tap';
import { PendingBatch, sealLine } from '../../src/audit/pending.js';
import { buildRecord, encodeRecord } from '../../src/audit/record.js';
import { ZERO_HASH } from '../../src/audit/hash.js';
import { auditAddon } from '../../src/audit/native-lines.js';
import type { AuditEvent } from '../../src/audit/types.js';

const at = new Date('2026-11-23T10:00:00.123Z');
const now = () => at;

function events(): AuditEvent[] {
  const odd = ['plain', 'tab\there', 'quote " and \\ backslash', 'line\nbreak', 'ünïcödé ☃ 𝄞', 'nul \u0000 ctrl \u001f', 'long '.repeat(300)];
  return odd.map((s, i) => ({
    kind: 'decision', user: s, uid: i, pid: 100 + i, program: '/usr/bin/cp', action: 'write',
    paths: [`/governed/${s}`, '/tmp/out'], zones: ['governed', 'unmanaged'],
    classification: { tier: 'PROPRIETARY', tags: ['PII', s] }, decision: 'deny', reasoning: s, details: { note: s, n: i },
  }));
}

t.test('lines and hashes from the batch buffer equal buildRecord\'s, record after record', async (t) => {
  const batch = new PendingBatch(64); // small, so it grows in the middle
  let prev = ZERO_HASH;
  const want: string[] = [];
  for (const [seq, e] of events().entries()) {
    const pos = { chainId: 'c-1', host: 'h', seq, prevHash: prev };
    const built = buildRecord(e, pos, now);
    const u = encodeRecord(e, pos, now);
    const hash = batch.add(seq, u.head, u.tail);
    t.equal(hash, built.record.hash, `hash of record ${seq}`);
    want.push(built.line);
    prev = hash;
  }
  t.equal(batch.data().toString('utf8'), want.map((l) => `${l}\n`).join(''), 'the stored lines, byte for byte');
  t.same(batch.hashes.length, want.length);
});

t.test('the addon and the TypeScript path seal the same bytes the same way', { skip: auditAddon() === null && 'audit addon not built' }, async (t) => {
  for (const [seq, e] of events().entries()) {
    const u = encodeRecord(e, { chainId: 'c-1', host: 'h', seq, prevHash: ZERO_HASH }, now);
    const line = `${u.head},"hash":"${'0'.repeat(64)}",${u.tail}}`;
    const a = Buffer.from(`xx${line}`);
    const b = Buffer.from(a);
    const where = 2 + Buffer.byteLength(u.head);
    const ha = sealLine(a, 2, where, a.length, auditAddon());
    const hb = sealLine(b, 2, where, b.length, null);
    t.equal(ha, hb, `record ${seq}`);
    t.ok(a.equals(b), `record ${seq}: the same digits written`);
  }
  t.throws(() => auditAddon()!.sealRecordLine(Buffer.alloc(10), 0, 5, 10), RangeError, 'a hash member past the end is refused');
});
