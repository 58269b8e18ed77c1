// The PostgreSQL sink runs in this worker thread so that building and serialising INSERT batches,
// parsing spool lines and talking to PostgreSQL never hold the daemon's event loop (where FUSE ops
// are answered). The main thread tells it how far the spool is durable and checkpointed; it
// answers with confirmations, status changes and log lines. Protocol: see SinkProxy in sink-proxy.ts.
import { parentPort, workerData } from 'node:worker_threads';
import { PostgresSink } from './sink.js';
import { spoolReader } from './spool.js';

export interface SinkWorkerData {
  connectionString: string;
  chainId: string;
  host: string;
  publicKeyPem: string;
  keyId: string;
  confirmedSeq: number;
  auditDir: string;
  checkpointsFile: string;
  batch: number;
  durableSeq: number;
  lastCheckpointSeq: number;
}

export type ToWorker = { type: 'progress'; durableSeq: number; lastCheckpointSeq: number } | { type: 'stop'; drainMs: number };
export type FromWorker =
  | { type: 'confirmed'; seq: number }
  | { type: 'status'; state: 'connected' | 'down'; confirmedSeq: number; lastError?: string }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; obj: object; msg: string }
  | { type: 'stopped' };

const d = workerData as SinkWorkerData;
const port = parentPort!;
let durableSeq = d.durableSeq;
let lastCheckpointSeq = d.lastCheckpointSeq;
const post = (m: FromWorker) => port.postMessage(m);
const log = (level: 'info' | 'warn' | 'error') => (obj: object, msg: string) => post({ type: 'log', level, obj, msg });

const sink = new PostgresSink({
  connectionString: d.connectionString,
  chainId: d.chainId,
  host: d.host,
  publicKeyPem: d.publicKeyPem,
  keyId: d.keyId,
  confirmedSeq: d.confirmedSeq,
  spool: spoolReader(d.auditDir),
  checkpointsFile: d.checkpointsFile,
  batch: d.batch,
  durableSeq: () => durableSeq,
  lastCheckpointSeq: () => lastCheckpointSeq,
  onConfirmed: (seq) => post({ type: 'confirmed', seq }),
  onStatus: (s) => post({ type: 'status', ...s }),
  log: { info: log('info'), warn: log('warn'), error: log('error') },
});

port.on('message', (m: ToWorker) => {
  if (m.type === 'progress') {
    durableSeq = m.durableSeq;
    lastCheckpointSeq = m.lastCheckpointSeq;
    sink.notify();
  } else if (m.type === 'stop') {
    void sink.stop(m.drainMs).then(() => {
      post({ type: 'status', ...sink.status() });
      post({ type: 'stopped' });
      port.close();
    });
  }
});
sink.start();
