// Shared fixtures for lineage tests: a temp store, real files behind FileRefs, and
// real child processes (so /proc identity and parent chains are the kernel's own).

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';
import type { Classification, Tier } from '../../src/classify/types.js';
import { openLineage, type FileRef, type LineageStore, type OpenOptions, type ProcessMeta } from '../../src/lineage/index.js';

export function tempDir(t: Test, prefix = 'lacuna-lineage-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export async function store(t: Test, opts: OpenOptions = {}, dir = tempDir(t)): Promise<{ lin: LineageStore; dir: string }> {
  const lin = await openLineage(join(dir, 'lineage'), { batchMs: 20, ...opts });
  t.teardown(() => lin.close().catch(() => undefined));
  return { lin, dir };
}

/**
 * A governed tree: files live under <root>/src (the "source dir") and are seen by
 * users under /governed/<zone>/... (the mount path). Each call writes the real file.
 */
export class Tree {
  readonly src: string;
  constructor(root: string) {
    this.src = join(root, 'src');
    mkdirSync(this.src, { recursive: true });
  }

  file(rel: string, content: string | Buffer = '', zone = rel.split('/')[0] ?? 'governed'): FileRef {
    const sourcePath = join(this.src, rel);
    mkdirSync(join(sourcePath, '..'), { recursive: true });
    writeFileSync(sourcePath, content);
    return this.ref(rel, zone);
  }

  /** A FileRef for an existing file (after a rename on disk, say). */
  ref(rel: string, zone = rel.split('/')[0] ?? 'governed'): FileRef {
    const sourcePath = join(this.src, rel);
    const st = statSync(sourcePath);
    return { path: `/governed/${rel}`, sourcePath, mount: '/governed', zone, dev: st.dev, ino: st.ino };
  }
}

export function cls(tier: Tier, tags: string[] = [], confidence = 0.9): Classification {
  return { tier, tags, confidence, layer: 1, reasoning: 'test', findings: [] };
}

export const META: ProcessMeta = { program: '/usr/bin/python3', uid: 1000, user: 'ana' };

/** A real process that sleeps until killed. */
export function sleeper(t: Test, seconds = 30): ChildProcess {
  const c = spawn('sleep', [String(seconds)], { stdio: 'ignore' });
  t.teardown(() => {
    c.kill('SIGKILL');
  });
  return c;
}

/**
 * A real `sh` that forks a `sleep` child and prints the child's pid: parent and child
 * for inheritance tests. Resolves once the child pid is known.
 */
export async function shWithChild(t: Test): Promise<{ sh: ChildProcess; childPid: number }> {
  const sh = spawn('sh', ['-c', 'sleep 30 & echo $!; wait'], { stdio: ['ignore', 'pipe', 'ignore'] });
  t.teardown(() => {
    sh.kill('SIGKILL');
  });
  const childPid = await new Promise<number>((resolve, reject) => {
    let out = '';
    sh.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /(\d+)\n/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    sh.on('exit', () => reject(new Error('sh exited early')));
  });
  t.teardown(() => {
    try {
      process.kill(childPid, 'SIGKILL');
    } catch {
      // already gone
    }
  });
  return { sh, childPid };
}

export async function exited(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return;
  await new Promise((r) => c.once('exit', r));
}
