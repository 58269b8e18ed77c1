// The conformance ratchet: every OPA conformance case listed in
// test/policy/conformance.passing still passes (`npm run conformance` grows the list).
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import t from 'tap';
import { loadCases, runCase } from '../../src/policy/conformance/cases.js';
import { readPassing } from '../../src/policy/conformance/run.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const CASES_DIR = resolve(ROOT, '../shared/opa-conformance/cases');
const pinned = new Set(readPassing(resolve(ROOT, 'test/policy/conformance.passing')));
const present = existsSync(CASES_DIR);
const cases = present ? loadCases(CASES_DIR).filter((c) => pinned.has(c.key)) : [];
const skip = present ? false : `OPA conformance cases not found at ${CASES_DIR}`;

t.test('the ratchet list is not empty and names existing cases', { skip }, async (t) => {
  t.ok(pinned.size > 1000, `${pinned.size} cases pinned`);
  t.equal(cases.length, pinned.size, 'every pinned case exists in ../shared/opa-conformance');
});

t.test('every pinned OPA conformance case still passes', { skip }, async (t) => {
  const byFolder = new Map<string, typeof cases>();
  for (const c of cases) byFolder.set(c.folder, [...(byFolder.get(c.folder) ?? []), c]);
  // One assertion per folder keeps the run short; a failure lists each regressed case and why.
  for (const [folder, cs] of byFolder) {
    const failed = cs.map((c) => [c, runCase(c.c)] as const).filter(([, o]) => !o.ok);
    t.same(
      failed.map(([c, o]) => `${c.key} (${c.c.note}): ${o.ok ? '' : o.why}`),
      [],
      `${folder}: ${cs.length} pinned cases pass`,
    );
  }
});
