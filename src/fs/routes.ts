// The daemon's control-socket endpoints (docs/API.md). Each one reads the daemon's
// state; `why` answers only about the caller's own denials.
import type { Route } from '../control/index.js';
import { renderDenial } from './denials.js';
import type { Daemon } from './daemon.js';

export function controlRoutes(d: Daemon): Route[] {
  return [
    {
      method: 'GET',
      path: '/v1/status',
      handle: () => ({ json: d.statusJson() }),
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
