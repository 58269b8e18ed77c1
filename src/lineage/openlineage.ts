// OpenLineage export: the event log as RunEvents (one per recorded write, a START for
// a process's first, a COMPLETE when it ended), renames as RunEvents with a RENAME
// lifecycle facet, unlinks as DatasetEvents with DROP. Datasets carry the
// classification lacuna-fs holds now, in a custom facet and in the standard tags facet.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Graph } from './graph.js';
import * as K from './keys.js';
import type { Kv } from './kv.js';
import type { EventRec, NodeRec, RunRec } from './records.js';
import type { ExportOptions } from './types.js';

const OL = 'https://openlineage.io/spec';
export const RUN_EVENT_SCHEMA = `${OL}/2-0-2/OpenLineage.json#/$defs/RunEvent`;
export const DATASET_EVENT_SCHEMA = `${OL}/2-0-2/OpenLineage.json#/$defs/DatasetEvent`;
const TAGS_FACET = `${OL}/facets/1-0-0/TagsDatasetFacet.json#/$defs/TagsDatasetFacet`;
const LIFECYCLE_FACET = `${OL}/facets/1-0-1/LifecycleStateChangeDatasetFacet.json#/$defs/LifecycleStateChangeDatasetFacet`;
const JOB_TYPE_FACET = `${OL}/facets/2-0-4/JobTypeJobFacet.json#/$defs/JobTypeJobFacet`;
const ENGINE_FACET = `${OL}/facets/1-1-1/ProcessingEngineRunFacet.json#/$defs/ProcessingEngineRunFacet`;
/** Our own facets; their JSON Schemas ship in src/lineage/facets/. */
export const FACET_BASE = 'https://lacuna-fs.dev/spec/facets/1-0-0';
const CLASSIFICATION_FACET = `${FACET_BASE}/LacunaClassificationDatasetFacet.json#/$defs/LacunaClassificationDatasetFacet`;
const PROCESS_FACET = `${FACET_BASE}/LacunaProcessRunFacet.json#/$defs/LacunaProcessRunFacet`;

export const VERSION = packageVersion();
export const PRODUCER = `https://github.com/lacuna-fs/lacuna-fs/tree/v${VERSION}`;

function packageVersion(): string {
  // src/lineage in development, dist/src/lineage when built: walk up to package.json.
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'lacuna-fs' && pkg.version) return pkg.version;
    } catch {
      // not here; keep walking
    }
    dir = dirname(dir);
  }
  return '0.0.0';
}

/** A UUID (version-5 layout) derived from a name, so re-exports give the same runIds. */
export function uuidFrom(name: string): string {
  const h = createHash('sha1').update('lacuna-fs/run\0').update(name).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

interface Ctx {
  kv: Kv;
  graph: Graph;
  ns: string;
  jobNs: string;
  host: string;
}

function dataset(ctx: Ctx, n: NodeRec | undefined, name?: string): Record<string, unknown> {
  const facets: Record<string, unknown> = {};
  if (n !== undefined) {
    const e = ctx.graph.eff(n);
    const tier = e?.tier ?? 'PUBLIC';
    const tags = e?.tags ?? [];
    const cls: Record<string, unknown> = {
      _producer: PRODUCER,
      _schemaURL: CLASSIFICATION_FACET,
      tier,
      tags,
      zone: n.zone,
      mount: n.mount,
      sourcePath: n.sourcePath,
    };
    if (n.content !== undefined) cls.content = { tier: n.content.tier, tags: n.content.tags };
    const inh = ctx.graph.inheritedRec(n);
    if (inh !== undefined) {
      const ids = new Set(n.inh?.srcs ?? []);
      if (n.copy !== undefined) ids.add(n.copy.src);
      const sources = [...ids].map((id) => ctx.graph.node(id)?.path).filter((p): p is string => p !== undefined).sort();
      const rule = n.copy !== undefined ? 'copy' : n.aggregate ? 'aggregate' : 'derived';
      cls.inherited = { tier: inh.tier, tags: inh.tags, rule, sources };
    }
    if (n.deleted !== undefined) cls.deleted = true;
    facets.lacuna_classification = cls;
    facets.tags = {
      _producer: PRODUCER,
      _schemaURL: TAGS_FACET,
      tags: [
        { key: 'lacuna.tier', value: tier, source: 'LACUNA_FS' },
        ...tags.map((t) => ({ key: t, value: 'true', source: 'LACUNA_FS' })),
      ],
    };
  }
  return { namespace: ctx.ns, name: name ?? n?.path ?? 'unknown', facets };
}

function job(ctx: Ctx, program: string): Record<string, unknown> {
  return {
    namespace: ctx.jobNs,
    name: program || 'lacuna-fs/copy-detection',
    facets: {
      jobType: { _producer: PRODUCER, _schemaURL: JOB_TYPE_FACET, processingType: 'BATCH', integration: 'LACUNA_FS', jobType: program ? 'PROCESS' : 'COPY_DETECTION' },
    },
  };
}

function run(ctx: Ctx, id: string, r: RunRec | undefined): Record<string, unknown> {
  const facets: Record<string, unknown> = {
    processing_engine: { _producer: PRODUCER, _schemaURL: ENGINE_FACET, name: 'lacuna-fs', version: VERSION },
  };
  if (r !== undefined) {
    facets.lacuna_process = {
      _producer: PRODUCER,
      _schemaURL: PROCESS_FACET,
      pid: r.pid,
      startTime: r.startTime,
      program: r.program,
      user: r.user,
      uid: r.uid,
      host: ctx.host,
    };
  }
  return { runId: uuidFrom(`${ctx.host}\0${id}`), facets };
}

const LIFECYCLE: Partial<Record<string, string>> = { create: 'CREATE', truncate: 'TRUNCATE' };

function toOpenLineage(ctx: Ctx, ev: EventRec, seq: number, started: Set<string>): object {
  const eventTime = new Date(ev.time).toISOString();
  const base = { eventTime, producer: PRODUCER, schemaURL: RUN_EVENT_SCHEMA };
  if (ev.kind === 'unlink') {
    const d = dataset(ctx, ctx.graph.node(ev.node), ev.path);
    (d.facets as Record<string, unknown>).lifecycleStateChange = { _producer: PRODUCER, _schemaURL: LIFECYCLE_FACET, lifecycleStateChange: 'DROP' };
    return { eventTime, producer: PRODUCER, schemaURL: DATASET_EVENT_SCHEMA, dataset: d };
  }
  if (ev.kind === 'rename') {
    const out = dataset(ctx, ctx.graph.node(ev.node), ev.to);
    (out.facets as Record<string, unknown>).lifecycleStateChange = {
      _producer: PRODUCER,
      _schemaURL: LIFECYCLE_FACET,
      lifecycleStateChange: 'RENAME',
      previousIdentifier: { namespace: ctx.ns, name: ev.from },
    };
    return { ...base, eventType: 'COMPLETE', run: run(ctx, `rename:${ev.time}:${seq}`, undefined), job: job(ctx, ev.program), inputs: [], outputs: [out] };
  }
  const out = dataset(ctx, ctx.graph.node(ev.dst));
  const lc = LIFECYCLE[ev.op];
  if (lc !== undefined) (out.facets as Record<string, unknown>).lifecycleStateChange = { _producer: PRODUCER, _schemaURL: LIFECYCLE_FACET, lifecycleStateChange: lc };
  const inputs = ev.srcs.map((id) => dataset(ctx, ctx.graph.node(id)));
  if (ev.run === '') {
    // Found by content fingerprints, not by watching a process: a one-event run.
    return { ...base, eventType: 'COMPLETE', run: run(ctx, `copy:${ev.time}:${seq}`, undefined), job: job(ctx, ''), inputs, outputs: [out] };
  }
  const r = ctx.kv.get('runs', K.runKey(ev.run)) as RunRec | undefined;
  let eventType = 'RUNNING';
  if (!started.has(ev.run)) {
    started.add(ev.run);
    if (r === undefined || ev.time <= r.first) eventType = 'START';
  }
  return { ...base, eventType, run: run(ctx, ev.run, r), job: job(ctx, ev.program), inputs, outputs: [out] };
}

/** Events at or after opts.since in time order, a run's COMPLETE merged in when it ended. */
export async function* exportEvents(kv: Kv, graph: Graph, opts: ExportOptions): AsyncGenerator<object> {
  const host = hostname();
  const ctx: Ctx = { kv, graph, host, ns: opts.namespace ?? `file://${host}`, jobNs: opts.jobNamespace ?? `lacuna-fs://${host}` };
  const from = opts.since?.getTime() ?? 0;
  const ends = kv.range('runEnds', K.timeRange(from))[Symbol.iterator]();
  let end = ends.next();
  const started = new Set<string>();
  const emitEnd = (key: unknown[]): object => {
    const id = key[1] as string;
    const r = kv.get('runs', K.runKey(id)) as RunRec | undefined;
    return {
      eventTime: new Date(key[0] as number).toISOString(),
      producer: PRODUCER,
      schemaURL: RUN_EVENT_SCHEMA,
      eventType: 'COMPLETE',
      run: run(ctx, id, r),
      job: job(ctx, r?.program ?? 'unknown'),
      inputs: [],
      outputs: [],
    };
  };
  let n = 0;
  for (const { key, value } of kv.range('events', K.timeRange(from))) {
    const [time, seq] = key as [number, number];
    while (!end.done && ((end.value.key as unknown[])[0] as number) < time) {
      yield emitEnd(end.value.key as unknown[]);
      end = ends.next();
    }
    yield toOpenLineage(ctx, value as EventRec, seq, started);
    // Let the event loop breathe on large exports (the daemon may be the caller).
    if (++n % 1000 === 0) await new Promise((r) => setImmediate(r));
  }
  while (!end.done) {
    yield emitEnd(end.value.key as unknown[]);
    end = ends.next();
  }
}
