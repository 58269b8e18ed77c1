// Client side of the control socket, used by the CLI. A missing or refusing socket means
// no daemon is running, which callers report with exit code 3.
import http from 'node:http';

export class NoDaemonError extends Error {
  constructor(readonly socketPath: string, cause: string) {
    super(`no lacuna-fs daemon answers on ${socketPath} (${cause})`);
    this.name = 'NoDaemonError';
  }
}

export class ControlResponseError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = 'ControlResponseError';
  }
}

export function controlSocketPath(runtimeDir: string): string {
  return `${runtimeDir.replace(/\/+$/, '')}/control.sock`;
}

export async function callControl<T = unknown>(socketPath: string, method: 'GET' | 'POST', path: string, body?: unknown, timeoutMs = 15_000): Promise<T> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise<T>((resolve, reject) => {
    const req = http.request(
      { socketPath, method, path, headers: payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}, timeout: timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const isJson = (res.headers['content-type'] ?? '').includes('json');
          let parsed: unknown = text;
          if (isJson) {
            try {
              parsed = JSON.parse(text);
            } catch {
              return reject(new ControlResponseError(res.statusCode ?? 500, `daemon sent invalid JSON: ${text.slice(0, 200)}`));
            }
          }
          if ((res.statusCode ?? 500) >= 400) {
            const msg = isJson && parsed && typeof parsed === 'object' && 'error' in parsed ? String((parsed as { error: unknown }).error) : text;
            return reject(new ControlResponseError(res.statusCode ?? 500, msg));
          }
          resolve(parsed as T);
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT' || e.code === 'ECONNREFUSED' || e.code === 'ENOTSOCK') reject(new NoDaemonError(socketPath, e.code));
      else reject(e);
    });
    if (payload) req.write(payload);
    req.end();
  });
}
