// Builds and runs the C++ tests of the scanner core (native/scanner/scanner_test.cc) against
// Debian's libre2, without Node or N-API in the loop.
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../src/classify/native.js';

t.test('the C++ scanner tests pass', async (t) => {
  const root = repoRoot();
  const dir = mkdtempSync(join(tmpdir(), 'lacuna-cctest-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const bin = join(dir, 'scanner_test');
  const src = ['scanner_test.cc', 'scanner.cc', 'validators.cc', 'pattern_facts.cc', 'prefilter.cc', 'triggered_scan.cc'].map((f) => join(root, 'native', 'scanner', f));
  const flags = execFileSync('pkg-config', ['--cflags', '--libs', 're2'], { encoding: 'utf8' }).trim().split(/\s+/).filter(Boolean);
  execFileSync('g++', ['-std=c++17', '-O1', '-I', join(root, 'native', 'scanner'), ...src, '-o', bin, ...flags], { stdio: 'pipe' });
  const run = spawnSync(bin, { encoding: 'utf8' });
  const lines = run.stdout.split('\n').filter((l) => /^(not )?ok /.test(l));
  t.ok(lines.length >= 25, `${lines.length} C++ checks ran`);
  for (const l of lines) t.ok(l.startsWith('ok '), l);
  t.equal(run.status, 0, 'the C++ test binary exits 0');
});
