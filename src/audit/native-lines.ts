// Typed loader for the audit addon (build/Release/lacuna_audit.node, built from native/audit by
// node-gyp): the verifier's per-line scan and hashing in one call per chunk. Optional: without the
// addon the same table is built in TypeScript (line-table.ts), slower but with identical results,
// so `audit verify` never depends on a native build.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface NativeLineTable {
  ends: Uint32Array;
  seqs: Float64Array;
  flags: Uint8Array;
  hashAt: Uint32Array;
  prevAt: Uint32Array;
  /** 32 bytes per line (zero for lines that do not count); empty when leaves were not asked for. */
  leaves: Buffer;
}

export interface AuditAddon {
  scanRecordLines(bytes: Uint8Array, chainMember: Uint8Array, withLeaves: boolean): NativeLineTable;
  merkleSubtreeRoot(leaves: Uint8Array, first: number, count: number): string;
  /** RFC 9162 leaf hashes (32 bytes each) of concatenated 64-digit lowercase record hashes. */
  merkleLeavesOfHashes(hex: string): Buffer;
  /**
   * Hash line[start, end) without the 74-byte hash member at `at` (as the verifier does), write the
   * 64 digits into that member and return them.
   */
  sealRecordLine(line: Uint8Array, start: number, at: number, end: number): string;
}

/** The repository root: the first parent with binding.gyp (src/audit under tap, dist/src/audit after tsc). */
function repoRoot(): string | null {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'binding.gyp'))) return dir;
    if (dirname(dir) === dir) return null;
  }
}

let loaded: AuditAddon | null | undefined;

/** The addon, or null when it is not built or does not load (then callers use the TypeScript path). */
export function auditAddon(): AuditAddon | null {
  if (loaded !== undefined) return loaded;
  loaded = null;
  const root = repoRoot();
  const file = root && join(root, 'build', 'Release', 'lacuna_audit.node');
  if (file && existsSync(file)) {
    try {
      loaded = createRequire(import.meta.url)(file) as AuditAddon;
    } catch {
      loaded = null;
    }
  }
  return loaded;
}
