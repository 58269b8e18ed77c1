// One test per rule of the built-in table: each listed true positive must produce a validated
// match of that rule, and each listed look-alike must not (rules/builtin.yaml holds the cases).
import t from 'tap';
import { compileRules, scanSync } from '../../src/classify/native.js';
import { loadBuiltin, toNative } from '../../src/classify/rules.js';

const { rules } = loadBuiltin();
const set = compileRules(rules.map(toNative));

for (const [i, rule] of rules.entries()) {
  t.test(`rule ${rule.id} finds its true positives and ignores its look-alikes`, async (t) => {
    t.ok(rule.matches.length > 0, 'the rule lists true positives');
    t.ok(rule.rejects.length > 0, 'the rule lists look-alikes');
    for (const text of rule.matches) {
      const hit = scanSync(set, Buffer.from(text)).find((f) => f.rule === i);
      t.ok(hit && hit.count >= 1, `matches: ${JSON.stringify(text)}`);
    }
    for (const text of rule.rejects) {
      const hit = scanSync(set, Buffer.from(text)).find((f) => f.rule === i);
      t.equal(hit?.count ?? 0, 0, `rejects: ${JSON.stringify(text)}`);
    }
  });
}
