// The control socket: HTTP/JSON over a unix socket in runtimeDir (docs/API.md). Callers
// are identified by SO_PEERCRED, never by anything they send; each route says whether it
// needs an admin. The socket is mode 0666 so every user can ask `why` about themselves;
// what they may do is decided per route from their credentials.
import fs from 'node:fs';
import http from 'node:http';
import type { Socket } from 'node:net';
import path from 'node:path';

export interface Peer {
  pid: number;
  uid: number;
  gid: number;
}

export interface RouteContext {
  peer: Peer;
  query: URLSearchParams;
  body: unknown;
  isAdmin: boolean;
}

export interface RouteResult {
  status?: number;
  json?: unknown;
  text?: string;
  contentType?: string;
}

export interface Route {
  method: 'GET' | 'POST';
  path: string;
  admin?: boolean;
  handle(ctx: RouteContext): Promise<RouteResult> | RouteResult;
}

export interface ControlServerOptions {
  socketPath: string;
  routes: Route[];
  peerCred(fd: number): Peer;
  isAdmin(peer: Peer): boolean;
  log: { warn(obj: object, msg: string): void };
}

const MAX_BODY = 1 << 20;

export class ControlError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function startControlServer(o: ControlServerOptions): Promise<{ close(): Promise<void> }> {
  fs.mkdirSync(path.dirname(o.socketPath), { recursive: true, mode: 0o755 });
  try {
    fs.unlinkSync(o.socketPath); // a socket file left by a crashed daemon
  } catch {
    /* none */
  }
  const peers = new WeakMap<Socket, Peer>();
  const server = http.createServer(async (req, res) => {
    const send = (status: number, r: RouteResult) => {
      const body = r.text ?? JSON.stringify(r.json ?? {}, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2) + '\n';
      res.writeHead(status, { 'content-type': r.contentType ?? (r.text !== undefined ? 'text/plain; charset=utf-8' : 'application/json') });
      res.end(body);
    };
    try {
      const peer = peers.get(req.socket);
      if (!peer) throw new ControlError(403, 'caller could not be identified');
      const url = new URL(req.url ?? '/', 'http://lacuna');
      const route = o.routes.find((r) => r.method === req.method && r.path === url.pathname);
      if (!route) throw new ControlError(404, `no such endpoint: ${req.method} ${url.pathname}`);
      const isAdmin = o.isAdmin(peer);
      if (route.admin && !isAdmin) throw new ControlError(403, `${req.method} ${url.pathname} needs root or the admin group`);
      const body = req.method === 'POST' ? await readJson(req) : undefined;
      const result = await route.handle({ peer, query: url.searchParams, body, isAdmin });
      send(result.status ?? 200, result);
    } catch (e) {
      const status = e instanceof ControlError ? e.status : 500;
      if (status === 500) o.log.warn({ err: String(e) }, 'control request failed');
      send(status, { json: { error: (e as Error).message } });
    }
  });
  server.on('connection', (sock: Socket) => {
    const fd = (sock as unknown as { _handle?: { fd?: number } })._handle?.fd;
    try {
      if (typeof fd === 'number' && fd >= 0) peers.set(sock, o.peerCred(fd));
    } catch (e) {
      o.log.warn({ err: String(e) }, 'SO_PEERCRED failed; the request will be refused');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.socketPath, () => resolve());
  });
  fs.chmodSync(o.socketPath, 0o666);
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        try {
          fs.unlinkSync(o.socketPath);
        } catch {
          /* already gone */
        }
      }),
  };
}

function readJson(req: http.IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new ControlError(413, 'request body too large'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => {
      if (chunks.length === 0) return resolve({});
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        reject(new ControlError(400, 'request body is not valid JSON'));
      }
    });
    req.on('error', reject);
  });
}
