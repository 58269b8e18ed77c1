// Pure chain verification: recompute every hash, link and Merkle root from the evidence, then
// compare; never trust a stored value without recomputing it. Input is a stream of stored lines
// (from the spool or PostgreSQL) plus the signed checkpoints; output names each break by kind
// and seq with the expected and computed values. No I/O here: sources.ts feeds it.
//
// Preconditions: lines arrive in storage order (spool file order, or PostgreSQL seq-column order);
// checkpoints may arrive in any order; without a public key signatures are not checked (and the
// result says so).
import type { KeyObject } from 'node:crypto';
import { checkCheckpoint, type Checkpoint } from './checkpoint.js';
import { ZERO_HASH } from './hash.js';
import { MerkleFrontier } from './merkle.js';
import { parseRecordLine, quickVerifyLine } from './record.js';
import type { IntactRun } from './intact-runs.js';
import type { AuditRecord } from './types.js';

export type BreakKind =
  | 'malformed' // a line that is not a record at all
  | 'non_canonical' // a record whose stored bytes are not its RFC 8785 form
  | 'hash_mismatch' // the record's content does not hash to its stored hash: a field was changed
  | 'link_broken' // prev_hash is not the hash of the record before: a record was replaced and rehashed
  | 'gap' // seqs skip: records were removed
  | 'reordered' // a record appears after one with a higher seq
  | 'duplicate' // a seq appears twice: a record was inserted
  | 'chain_mismatch' // a record of another chain
  | 'bad_genesis' // the chain does not start with a genesis record at seq 0
  | 'anchor_mismatch' // the first kept record does not link to the recorded trim anchor
  | 'truncated_tail' // a signed checkpoint covers seqs that are gone
  | 'checkpoint_mismatch' // the record at a checkpoint's seq has a different hash than was signed
  | 'root_mismatch' // the Merkle root over records 0..seq differs from the signed one
  | 'bad_signature'
  | 'unknown_key'
  | 'malformed_checkpoint'
  | 'column_mismatch' // PostgreSQL query columns say something the canonical record does not
  | 'copy_mismatch' // the spool and PostgreSQL hold different bytes for the same seq (or checkpoint)
  | 'copy_missing'; // PostgreSQL confirmed a record that it no longer holds

export interface Mismatch {
  seq: number;
  kind: BreakKind;
  expected?: string | number;
  computed?: string | number;
  /** Where the evidence is: `segment:line` in the spool, `row seq=N` in PostgreSQL. */
  where?: string;
  detail?: string;
}

export interface VerifyResult {
  ok: boolean;
  chainId: string | null;
  records: number;
  firstSeq: number | null;
  lastSeq: number | null;
  lastHash: string | null;
  /** Checkpoints seen / signature-checked / matched against a record present here. */
  checkpoints: { total: number; signatureChecked: number; matched: number; lastSeq: number | null; notCovered: number };
  signaturesChecked: boolean;
  merkleChecked: boolean;
  /** Sorted by seq; the first is the first broken record. Capped at maxMismatches. */
  mismatches: Mismatch[];
  first: Mismatch | null;
  mismatchesDropped: number;
}

export interface VerifyOptions {
  /** Expected chain id; defaults to the first record's. */
  chainId?: string;
  publicKey?: KeyObject;
  keyId?: string;
  checkpoints?: { checkpoint: Checkpoint; where?: string }[];
  /**
   * Where verification starts. Absent: at genesis (seq 0). `anchor`: the spool was trimmed after
   * this record (its hash is known). `from`: start at this seq trusting the first record's link.
   */
  start?: { anchor: { seq: number; hash: string } } | { from: number };
  maxMismatches?: number;
}

export interface StoredLine {
  line: string;
  where?: string;
  /** For PostgreSQL rows: check the row's columns against the record. */
  columns?: (record: AuditRecord) => Mismatch[];
}

/** Lower = reported first among mismatches at the same seq: the chain's own evidence before derived columns. */
const PRIORITY: Record<BreakKind, number> = {
  malformed: 0, non_canonical: 1, hash_mismatch: 2, link_broken: 3, gap: 3, reordered: 3, duplicate: 3, chain_mismatch: 1,
  bad_genesis: 3, anchor_mismatch: 3, truncated_tail: 4, checkpoint_mismatch: 4, root_mismatch: 5, bad_signature: 5,
  unknown_key: 5, malformed_checkpoint: 5, column_mismatch: 6, copy_mismatch: 2, copy_missing: 3,
};

export class ChainVerifier {
  private readonly max: number;
  private mismatches: Mismatch[] = [];
  private dropped = 0;
  private chainId: string | null;
  private expected: number;
  private lastHash: string | null;
  private lastSeq: number | null = null;
  private firstSeq: number | null = null;
  private records = 0;
  private started = false;
  private frontier: MerkleFrontier | null;
  private pendingGap: { missing: number; found: AuditRecord; where: string | undefined } | null = null;
  private readonly cpBySeq = new Map<number, { checkpoint: Checkpoint; where?: string }>();
  private cpMatched = 0;
  private cpSigChecked = 0;
  private cpTotal = 0;
  private cpNotCovered = 0;

  constructor(private readonly o: VerifyOptions = {}) {
    this.max = o.maxMismatches ?? 100;
    this.chainId = o.chainId ?? null;
    const s = o.start;
    if (!s) {
      this.expected = 0;
      this.lastHash = ZERO_HASH;
      this.frontier = new MerkleFrontier();
    } else if ('anchor' in s) {
      this.expected = s.anchor.seq + 1;
      this.lastHash = s.anchor.hash;
      this.frontier = null;
    } else {
      this.expected = s.from;
      this.lastHash = null; // the first record's link cannot be checked
      this.frontier = null;
    }
    for (const c of o.checkpoints ?? []) this.addCheckpoint(c.checkpoint, c.where);
  }

  private report(m: Mismatch): void {
    if (this.mismatches.length >= this.max) this.dropped++;
    else this.mismatches.push(m);
  }

  private addCheckpoint(c: Checkpoint, where?: string): void {
    this.cpTotal++;
    if (this.o.publicKey && this.o.keyId) {
      const p = checkCheckpoint(c, this.o.publicKey, this.o.keyId);
      this.cpSigChecked++;
      if (p) {
        this.report({ seq: Number.isSafeInteger(c?.seq) ? c.seq : -1, kind: p.problem === 'malformed' ? 'malformed_checkpoint' : p.problem, detail: p.detail, ...(where ? { where } : {}) });
        return; // an unsigned claim proves nothing: do not use it for tail or hash checks
      }
    }
    if (this.chainId !== null && c.chain_id !== this.chainId) {
      this.report({ seq: c.seq, kind: 'chain_mismatch', expected: this.chainId, computed: c.chain_id, detail: 'checkpoint of another chain', ...(where ? { where } : {}) });
      return;
    }
    const prev = this.cpBySeq.get(c.seq);
    if (prev && prev.checkpoint.hash !== c.hash) {
      this.report({ seq: c.seq, kind: 'checkpoint_mismatch', expected: prev.checkpoint.hash, computed: c.hash, detail: 'two signed checkpoints disagree on this seq', ...(where ? { where } : {}) });
    }
    this.cpBySeq.set(c.seq, { checkpoint: c, ...(where ? { where } : {}) });
  }

  push(item: StoredLine): void {
    const where = item.where;
    const w = where ? { where } : {};
    const quick = quickVerifyLine(item.line);
    if (quick) {
      this.accepted(quick, item, w);
      return;
    }
    const parsed = parseRecordLine(item.line);
    if (!parsed.record) {
      this.report({ seq: this.expected, kind: 'malformed', detail: parsed.ok ? '' : parsed.detail, ...w });
      return;
    }
    if (!parsed.ok) this.report({ seq: parsed.record.seq, kind: parsed.problem, detail: parsed.detail, ...w });
    const r = parsed.record;
    if (parsed.computedHash !== r.hash) this.report({ seq: r.seq, kind: 'hash_mismatch', expected: r.hash, computed: parsed.computedHash!, ...w });
    this.accepted(r, item, w);
  }

  /**
   * Where the fast path may stop: the seq of the last checkpoint, when every checkpoint was
   * signature-checked and accepted and the chain id is known; -1 when nothing vouches for runs
   * (no key, no checkpoints, a bad checkpoint, or a --from start). See intact-runs.ts.
   */
  trustedThrough(): number {
    if (!this.o.publicKey || !this.o.keyId || this.chainId === null || this.mismatches.length > 0 || this.dropped > 0) return -1;
    if (this.o.start && 'from' in this.o.start) return -1;
    let max = -1;
    for (const seq of this.cpBySeq.keys()) if (seq > max) max = seq;
    return max;
  }

  /** Seqs of the accepted checkpoints, ascending. */
  checkpointSeqs(): number[] {
    return [...this.cpBySeq.keys()].sort((a, b) => a - b);
  }

  /**
   * Take a run of records the fast path found intact on their own (intact-runs.ts) as if each had
   * been pushed. True only when the run continues the chain exactly, every checkpoint inside it
   * names its record's hash and every root matches; on false nothing is reported and the verifier
   * must be discarded (its state is partly advanced): the caller verifies line by line instead.
   */
  pushRun(run: IntactRun): boolean {
    if (this.pendingGap || this.lastHash === null || run.firstPrev !== this.lastHash || run.firstSeq !== this.expected) return false;
    if (!this.started && !this.o.start && !run.genesis) return false;
    const hashAt = new Map(run.hashesAt);
    let matched = 0;
    for (const [seq, cp] of this.cpBySeq) {
      if (seq < run.firstSeq || seq > run.lastSeq) continue;
      if (hashAt.get(seq) !== cp.checkpoint.hash) return false;
      matched++;
    }
    if (this.frontier) {
      if (!run.pieces || this.frontier.size !== run.firstSeq) return false;
      for (const [count, root] of run.pieces) {
        this.frontier.pushSubtree(root, count);
        const cp = this.cpBySeq.get(this.frontier.size - 1);
        if (cp && cp.checkpoint.tree_size === this.frontier.size && this.frontier.root() !== cp.checkpoint.root) return false;
      }
      if (this.frontier.size !== run.lastSeq + 1) return false;
    }
    if (!this.started) {
      this.started = true;
      this.firstSeq = run.firstSeq;
    }
    this.cpMatched += matched;
    this.records += run.lastSeq - run.firstSeq + 1;
    this.expected = run.lastSeq + 1;
    this.lastHash = run.lastHash;
    this.lastSeq = run.lastSeq;
    return true;
  }

  /** Content checks done (or reported): columns, then order and links. */
  private accepted(r: AuditRecord, item: StoredLine, w: { where?: string }): void {
    if (this.chainId === null) this.chainId = r.chain_id;
    if (r.chain_id !== this.chainId) {
      this.report({ seq: r.seq, kind: 'chain_mismatch', expected: this.chainId, computed: r.chain_id, ...w });
      return;
    }
    if (item.columns) for (const m of item.columns(r)) this.report({ ...m, ...w });
    this.records++;
    this.sequence(r, item.where);
  }

  /** Order and link checks; `r.hash` (stored) is what the next record must link to. */
  private sequence(r: AuditRecord, where: string | undefined): void {
    const w = where ? { where } : {};
    if (!this.started) {
      this.started = true;
      this.firstSeq = r.seq;
      if (!this.o.start && r.seq === 0 && (r.kind !== 'genesis' || r.prev_hash !== ZERO_HASH)) {
        this.report({ seq: 0, kind: 'bad_genesis', expected: 'genesis', computed: r.kind, ...w });
      }
      if (this.o.start && 'from' in this.o.start && r.seq > this.expected) this.expected = r.seq; // --from below the first kept record
    }
    if (this.pendingGap) {
      const g = this.pendingGap;
      this.pendingGap = null;
      if (r.seq === g.missing) {
        // The missing record turned up right after a later one: two records swapped places.
        this.report({ seq: g.missing, kind: 'reordered', expected: g.missing, computed: g.found.seq, detail: `seq ${g.found.seq} is stored before seq ${g.missing}`, ...(g.where ? { where: g.where } : {}) });
        return; // state already advanced past the later record
      }
      this.report({ seq: g.missing, kind: 'gap', expected: g.missing, computed: g.found.seq, detail: `${g.found.seq - g.missing} record(s) missing`, ...(g.where ? { where: g.where } : {}) });
    }
    if (r.seq < this.expected) {
      if (r.seq === this.lastSeq) this.report({ seq: r.seq, kind: 'duplicate', expected: this.expected, computed: r.seq, detail: 'a second record with this seq', ...w });
      else this.report({ seq: r.seq, kind: 'reordered', expected: this.expected, computed: r.seq, ...w });
      return; // keep following the chain we were on
    }
    if (r.seq > this.expected) {
      this.pendingGap = { missing: this.expected, found: r, where };
      this.frontier = null; // roots cannot be recomputed over a hole
    } else if (this.lastHash !== null && r.prev_hash !== this.lastHash) {
      const kind = this.o.start && 'anchor' in this.o.start && r.seq === this.o.start.anchor.seq + 1 ? 'anchor_mismatch' : 'link_broken';
      this.report({ seq: r.seq, kind, expected: this.lastHash, computed: r.prev_hash, ...w });
    }
    this.accept(r, where);
  }

  private accept(r: AuditRecord, where: string | undefined): void {
    this.expected = r.seq + 1;
    this.lastHash = r.hash;
    this.lastSeq = r.seq;
    this.frontier?.push(r.hash);
    const cp = this.cpBySeq.get(r.seq);
    if (!cp) return;
    const w = cp.where ?? where;
    const wh = w ? { where: w } : {};
    if (cp.checkpoint.hash !== r.hash) {
      this.report({ seq: r.seq, kind: 'checkpoint_mismatch', expected: cp.checkpoint.hash, computed: r.hash, ...wh });
      return;
    }
    if (this.frontier && this.frontier.size === cp.checkpoint.tree_size) {
      const root = this.frontier.root();
      if (root !== cp.checkpoint.root) {
        this.report({ seq: r.seq, kind: 'root_mismatch', expected: cp.checkpoint.root, computed: root, ...wh });
        return;
      }
    }
    this.cpMatched++;
  }

  end(): VerifyResult {
    if (this.pendingGap) {
      const g = this.pendingGap;
      this.pendingGap = null;
      this.report({ seq: g.missing, kind: 'gap', expected: g.missing, computed: g.found.seq, ...(g.where ? { where: g.where } : {}) });
    }
    const startSeq = !this.o.start ? 0 : 'anchor' in this.o.start ? this.o.start.anchor.seq + 1 : this.o.start.from;
    let lastCp: number | null = null;
    for (const [seq, cp] of this.cpBySeq) {
      lastCp = lastCp === null ? seq : Math.max(lastCp, seq);
      if (seq < startSeq) {
        // Records before the start are not here (trimmed, or --from): the anchor can still be checked.
        if (this.o.start && 'anchor' in this.o.start && seq === this.o.start.anchor.seq && cp.checkpoint.hash !== this.o.start.anchor.hash) {
          this.report({ seq, kind: 'anchor_mismatch', expected: cp.checkpoint.hash, computed: this.o.start.anchor.hash, detail: 'trim anchor disagrees with a signed checkpoint' });
        }
        this.cpNotCovered++;
        continue;
      }
      if (this.lastSeq === null || seq > this.lastSeq) {
        this.report({
          seq: (this.lastSeq ?? startSeq - 1) + 1,
          kind: 'truncated_tail',
          expected: seq,
          computed: this.lastSeq ?? -1,
          detail: `a signed checkpoint covers seq ${seq} but the records end at ${this.lastSeq ?? 'nothing'}`,
          ...(cp.where ? { where: cp.where } : {}),
        });
        break; // one report is enough; later checkpoints say the same
      }
    }
    if (this.records === 0 && !this.o.start) this.report({ seq: 0, kind: 'bad_genesis', detail: 'no records at all' });
    const ms = [...this.mismatches].sort((a, b) => a.seq - b.seq || PRIORITY[a.kind] - PRIORITY[b.kind]);
    return {
      ok: ms.length === 0 && this.dropped === 0,
      chainId: this.chainId,
      records: this.records,
      firstSeq: this.firstSeq,
      lastSeq: this.lastSeq,
      lastHash: this.lastSeq === null ? null : this.lastHash,
      checkpoints: { total: this.cpTotal, signatureChecked: this.cpSigChecked, matched: this.cpMatched, lastSeq: lastCp, notCovered: this.cpNotCovered },
      signaturesChecked: !!(this.o.publicKey && this.o.keyId),
      merkleChecked: this.frontier !== null,
      mismatches: ms,
      first: ms[0] ?? null,
      mismatchesDropped: this.dropped,
    };
  }
}

/** Verify a whole chain held in memory (tests, small spools). */
export function verifyLines(lines: Iterable<StoredLine | string>, o: VerifyOptions = {}): VerifyResult {
  const v = new ChainVerifier(o);
  for (const l of lines) v.push(typeof l === 'string' ? { line: l } : l);
  return v.end();
}
