// Starts a private, throw-away PostgreSQL 15 for a test (or a benchmark): initdb with trust auth and
// no fsync into a temp dir owned by `postgres`, a free port, a unix socket dir of its own. stop()
// removes everything; a process exit handler kills a server a crashed test left behind.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, mkdtempSync, readFileSync, rmSync, chmodSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

const BIN = '/usr/lib/postgresql/15/bin';

export interface TestPostgres {
  /** postgresql:// URL over the unix socket (user postgres, database postgres). */
  connectionString: string;
  port: number;
  socketDir: string;
  /** Fast shutdown, keep the data: start() brings the same cluster back. */
  stopServer(): Promise<void>;
  /** Start the (stopped or killed) cluster again on the same port. */
  start(): Promise<void>;
  /** stopServer() + start(). */
  restart(): Promise<void>;
  /** SIGKILL the postmaster (a crash); start() recovers it. */
  kill(): Promise<void>;
  /** Stop and delete the cluster; idempotent. */
  stop(): Promise<void>;
  /** Run one SQL statement as superuser and return rows. */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<R[]>;
}

const live = new Set<TestPostgres>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function postmasterPid(dataDir: string): number {
  try {
    return Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return 0;
  }
}
let exitHookInstalled = false;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

function uidOf(user: string): { uid: number; gid: number } {
  const uid = Number(execFileSync('id', ['-u', user]).toString().trim());
  const gid = Number(execFileSync('id', ['-g', user]).toString().trim());
  return { uid, gid };
}

async function waitReady(connectionString: string, child: ChildProcess, ms = 15000): Promise<void> {
  const until = Date.now() + ms;
  let last: unknown;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`postgres exited with ${child.exitCode} while starting`);
    const c = new pg.Client({ connectionString, connectionTimeoutMillis: 1000 });
    try {
      await c.connect();
      await c.query('SELECT 1');
      await c.end();
      return;
    } catch (err) {
      last = err;
      await c.end().catch(() => {});
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`postgres did not become ready: ${(last as Error)?.message}`);
}

export async function startPostgres(): Promise<TestPostgres> {
  const root = mkdtempSync(join(tmpdir(), 'lacuna-pg-'));
  chmodSync(root, 0o755);
  const dataDir = join(root, 'data');
  const socketDir = join(root, 'sock');
  const { uid, gid } = uidOf('postgres');
  for (const d of [dataDir, socketDir]) {
    execFileSync('mkdir', ['-p', d]);
    chownSync(d, uid, gid);
  }
  chmodSync(dataDir, 0o700);
  execFileSync('su', ['postgres', '-c', `${BIN}/initdb -D ${dataDir} --auth=trust --no-sync -U postgres -E UTF8 --locale=C.UTF-8 >/dev/null`]);
  const port = await freePort();
  const connectionString = `postgresql://postgres@localhost/postgres?host=${encodeURIComponent(socketDir)}&port=${port}`;
  let child: ChildProcess | null = null;

  const launch = async () => {
    // Run postgres in the foreground as a child so kill() is a real SIGKILL of the postmaster.
    child = spawn('su', ['postgres', '-c', `exec ${BIN}/postgres -D ${dataDir} -p ${port} -k ${socketDir} -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off`], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let log = '';
    child.stderr!.on('data', (d: Buffer) => {
      log = (log + d.toString()).slice(-4000);
    });
    try {
      await waitReady(connectionString, child);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${log}`);
    }
  };
  /** Signal the postmaster itself (su would not wait for it), then wait for it and su to be gone. */
  const halt = async (signal: NodeJS.Signals) => {
    const c = child;
    child = null;
    const pid = postmasterPid(dataDir);
    const exited = c && c.exitCode === null ? new Promise((r) => c.once('exit', r)) : Promise.resolve();
    if (pid > 0 && alive(pid)) {
      try {
        process.kill(pid, signal);
      } catch {
        /* gone already */
      }
    } else {
      c?.kill(signal);
    }
    await exited;
    for (let i = 0; i < 200 && pid > 0 && alive(pid); i++) await new Promise((r) => setTimeout(r, 25));
  };
  const killPostmaster = () => {
    // su forwards signals to its child; SIGKILL of su would orphan postgres, so signal the postmaster pid itself.
    const pid = postmasterPid(dataDir);
    if (pid > 0) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  };

  await launch();
  const self: TestPostgres = {
    connectionString,
    port,
    socketDir,
    async stopServer() {
      await halt('SIGINT'); // "fast" shutdown
    },
    async start() {
      if (child) return;
      await launch();
    },
    async restart() {
      await self.stopServer();
      await self.start();
    },
    async kill() {
      const pid = postmasterPid(dataDir);
      const c = child;
      const exited = c && c.exitCode === null ? new Promise((r) => c.once('exit', r)) : Promise.resolve();
      killPostmaster();
      await exited; // su reaps the killed postmaster and exits
      child = null;
      // Backends exit once they notice the postmaster is gone; the restart needs the pid free.
      for (let i = 0; i < 100 && pid > 0 && alive(pid); i++) await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 200));
    },
    async stop() {
      live.delete(self);
      await halt('SIGINT').catch(() => {});
      killPostmaster();
      rmSync(root, { recursive: true, force: true });
    },
    async query(sql, params) {
      const c = new pg.Client({ connectionString });
      await c.connect();
      try {
        return (await c.query(sql, params)).rows;
      } finally {
        await c.end();
      }
    },
  };
  live.add(self);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const p of live) {
        const pid = postmasterPid(join(p.socketDir, '..', 'data'));
        try {
          if (pid > 0) process.kill(pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
        rmSync(join(p.socketDir, '..'), { recursive: true, force: true });
      }
    });
  }
  return self;
}
