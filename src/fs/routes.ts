// The daemon's control-socket endpoints (docs/API.md). Each one reads the daemon's
// state; `why` answers only about the caller's own denials.
import type { Route } from '../control/index.js';
import { ControlError } from '../control/index.js';
import { userName } from './callers.js';
import { renderDenial } from './denials.js';
import { ExceptionError } from './exceptions.js';
import { renderMetrics } from './metrics.js';
import { explainCopy, ExplainError } from './explain.js';
import { anonymizeThroughDaemon, AnonymizeError, type AnonymizeDeps } from './anonymize.js';
import { ClassifyError } from '../classify/index.js';
import { uidOf } from './callers.js';
import type { Daemon } from './daemon.js';

/** Runs an exception-store call, turning its errors into HTTP statuses. */
function guarded<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ExceptionError) throw new ControlError(e.status, e.message);
    throw e;
  }
}

function field(body: unknown, name: string): string | undefined {
  const v = body && typeof body === 'object' ? (body as Record<string, unknown>)[name] : undefined;
  return v === undefined || v === null ? undefined : String(v);
}

export function controlRoutes(d: Daemon): Route[] {
  const who = (peer: { uid: number }) => ({ user: userName(peer.uid), uid: peer.uid });
  const requireApprover = (peer: { uid: number; gid: number }) => {
    if (!d.isApprover(peer.uid, peer.gid)) throw new ControlError(403, `${userName(peer.uid)} is not an approver (config: approvers / admins)`);
  };
  return [
    {
      method: 'GET',
      path: '/v1/exceptions',
      // Approvers see every exception; everybody else sees their own.
      handle: ({ peer }) => ({ json: { exceptions: d.exceptions.list(d.isApprover(peer.uid, peer.gid) ? {} : { uid: peer.uid }) } }),
    },
    {
      method: 'POST',
      path: '/v1/exceptions',
      handle: ({ peer, body }) => ({
        status: 201,
        json: guarded(() =>
          d.exceptions.request(who(peer), { path: field(body, 'path') ?? '', dest: field(body, 'dest') ?? '', justification: field(body, 'justification') ?? '', ttl: field(body, 'ttl') }),
        ),
      }),
    },
    {
      method: 'POST',
      path: '/v1/exceptions/approve',
      handle: ({ peer, body }) => {
        requireApprover(peer);
        return { json: guarded(() => d.exceptions.approve(who(peer), field(body, 'id') ?? '', field(body, 'ttl'))) };
      },
    },
    {
      method: 'POST',
      path: '/v1/exceptions/deny',
      handle: ({ peer, body }) => {
        requireApprover(peer);
        return { json: guarded(() => d.exceptions.deny(who(peer), field(body, 'id') ?? '', field(body, 'reason') ?? '')) };
      },
    },
    {
      method: 'POST',
      path: '/v1/exceptions/revoke',
      handle: ({ peer, body }) =>
        guarded(() => {
          const id = field(body, 'id') ?? '';
          const rec = d.exceptions.get(id);
          // The requester may withdraw their own; approvers may revoke any.
          if (rec.requested_uid !== peer.uid) requireApprover(peer);
          return { json: d.exceptions.revoke(who(peer), id, field(body, 'reason') ?? '') };
        }),
    },
    {
      method: 'GET',
      path: '/v1/status',
      handle: () => ({ json: d.statusJson() }),
    },
    {
      method: 'POST',
      path: '/v1/explain',
      handle: async ({ peer, body, isAdmin }) => {
        const asUser = field(body, 'user');
        let uid = peer.uid;
        if (asUser !== undefined) {
          const u = uidOf(asUser);
          if (u === undefined) throw new ControlError(400, `unknown user ${asUser}`);
          if (u !== peer.uid && !isAdmin) throw new ControlError(403, 'explaining for another user needs root or the admin group');
          uid = u;
        }
        try {
          const e = await explainCopy(
            {
              config: d.config,
              policy: d.policy,
              classifier: d.classifier,
              views: d.mounts.map((m) => m.view),
              inherited: (loc, st) => d.lineage.inherited({ path: loc.userPath, sourcePath: loc.sourcePath, mount: loc.mount, zone: loc.zone.name, dev: st.dev, ino: st.ino }) as never,
              exceptions: (s, dest, u, now) => d.exceptions.matching(s, dest, u, now),
            },
            field(body, 'from') ?? '',
            field(body, 'to') ?? '',
            uid,
          );
          return { json: e };
        } catch (err) {
          if (err instanceof ExplainError) throw new ControlError(400, err.message);
          throw err;
        }
      },
    },
    {
      method: 'POST',
      path: '/v1/anonymize',
      handle: async ({ peer, body }) => {
        try {
          const deps: AnonymizeDeps = {
            views: d.mounts.map((m) => m.view),
            governor: d.governor,
            classifier: d.classifier,
            lineage: d.lineage,
            key: d.anonymizeKey(),
          };
          const r = await anonymizeThroughDaemon(deps, { uid: peer.uid, gid: peer.gid, pid: peer.pid }, field(body, 'input') ?? '', field(body, 'output') ?? '', {
            mask: field(body, 'mask') === 'true',
            force: field(body, 'force') === 'true',
          });
          return { status: r.decision.allow ? 201 : 200, json: r };
        } catch (e) {
          if (e instanceof AnonymizeError) throw new ControlError(e.status, e.message);
          if (e instanceof ClassifyError) throw new ControlError(e.code === 'binary_input' || e.code === 'key_invalid' ? 400 : 500, `${e.message} [${e.code}]`);
          throw e;
        }
      },
    },
    {
      method: 'GET',
      path: '/metrics',
      handle: () => ({ text: renderMetrics(d), contentType: 'text/plain; version=0.0.4; charset=utf-8' }),
    },
    {
      method: 'GET',
      path: '/v1/why',
      handle: ({ peer, query }) => {
        const last = Math.min(Math.max(Number(query.get('last') ?? 5) || 5, 1), 50);
        const list = d.governor.denials.forUser(peer.uid, last);
        return { json: { uid: peer.uid, denials: list, text: list.map(renderDenial) } };
      },
    },
    {
      method: 'POST',
      path: '/v1/reload',
      admin: true,
      handle: async () => {
        try {
          return { json: { reloaded: true, ...(await d.reload()) } };
        } catch (e) {
          return { status: 422, json: { reloaded: false, error: (e as Error).message } };
        }
      },
    },
    {
      method: 'POST',
      path: '/v1/stop',
      admin: true,
      handle: () => {
        // Answer first, then stop: the client gets its reply before the socket closes.
        setImmediate(() => void d.stop('lacuna-fs stop').then(() => process.exit(0)));
        return { json: { stopping: true, pid: process.pid } };
      },
    },
  ];
}
