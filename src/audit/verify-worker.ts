// A verify worker: scans chunks of spool bytes for intact runs (intact-runs.ts) so that hashing,
// which is most of verification, uses every core. Stateless between chunks; answers in order.
import { parentPort } from 'node:worker_threads';
import { scanLines, type ScanOptions, type ScanResult } from './intact-runs.js';

export interface ScanRequest {
  id: number;
  bytes: Uint8Array;
  options: ScanOptions;
}

export interface ScanReply {
  id: number;
  result?: ScanResult;
  error?: string;
}

const port = parentPort!;
port.on('message', (m: ScanRequest) => {
  try {
    const result = scanLines(Buffer.from(m.bytes.buffer, m.bytes.byteOffset, m.bytes.byteLength), m.options);
    port.postMessage({ id: m.id, result } satisfies ScanReply);
  } catch (err) {
    port.postMessage({ id: m.id, error: (err as Error).message } satisfies ScanReply);
  }
});
