// Layer 2 in the daemon: an internal document with no identifiers or markings (layer 1
// says PUBLIC, unsure) is escalated in the background; the write-class decision waits for
// it, so copying the document to an external zone is refused as INTERNAL data.
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, startDaemon } from '../helpers/daemon.js';

const heldout = fs.readFileSync(path.join(ROOT, 'src/classify/embed/model/heldout.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { text: string; tier: string; kind: string });
const retro = heldout.find((r) => r.kind === 'retro' && r.tier === 'INTERNAL')!.text;

t.test('layer 2 decides what layer 1 cannot see', async (t) => {
  const h = await startDaemon(t, { files: { 'team/retro.txt': retro, 'usb/.keep': '' }, subzones: [{ path: 'usb', zone: 'external' }] });
  const tierOf = () => h.sh(`getfattr --only-values -n user.lacuna.tier ${h.governed}/team/retro.txt`).stdout;
  const r = h.sh(`cp ${h.governed}/team/retro.txt ${h.governed}/usb/retro.txt`);
  t.not(r.status, 0, 'INTERNAL data may not go to an external zone');
  t.notOk(fs.existsSync(path.join(h.data, 'usb/retro.txt')), 'nothing left on the external zone');
  t.equal(tierOf(), 'INTERNAL', 'the file now shows its layer-2 tier');
  const why = JSON.parse(h.cli(['why', '--config', h.config, '--json', '--last', '1']).stdout)[0];
  t.equal(why.tier, 'INTERNAL');
  const s = JSON.parse(h.cli(['status', '--config', h.config, '--json']).stdout);
  t.ok(s.classification.layer2.escalated >= 1, 'escalated in the background');
  t.ok(s.classification.layer2.upgraded >= 1, 'and raised');
  const cls = JSON.parse(h.cli(['classify', '--json', path.join(h.data, 'team/retro.txt')]).stdout.trim().split('\n')[0]!);
  t.equal(cls.tier, 'PUBLIC', 'layer 1 alone (the classify command) says PUBLIC: the refusal is layer 2\'s doing');
});

t.test('with embeddings disabled, layer 1 alone decides', async (t) => {
  const h = await startDaemon(t, { files: { 'team/retro.txt': retro, 'usb/.keep': '' }, subzones: [{ path: 'usb', zone: 'external' }], extraYaml: 'classify: { embeddings: { enabled: false } }' });
  const r = h.sh(`cp ${h.governed}/team/retro.txt ${h.governed}/usb/retro.txt`);
  t.equal(r.status, 0, r.stderr);
  t.equal(JSON.parse(h.cli(['status', '--config', h.config, '--json']).stdout).classification.layer2, 'disabled');
});
