// anonymize(): on the labelled corpus, layer 1 finds no PII or secret in the output, joins
// survive (one value → one token across files), and text that identifies no one is unchanged.
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { anonymize, createClassifier, pseudonym } from '../../src/classify/index.js';
import { cellSpans } from '../../src/classify/csv.js';

const fixtures = join(import.meta.dirname, '..', 'fixtures', 'classify');
const corpus = join(fixtures, 'corpus');
const labels = JSON.parse(readFileSync(join(fixtures, 'labels.json'), 'utf8')) as Record<string, { pii: boolean; secret: boolean; tier: string }>;
const key = Buffer.from('0123456789abcdef0123456789abcdef');
const classifier = createClassifier({ cacheSize: 0, exactCounts: true });
const TOKEN = /\b[a-z][a-z_]*_[0-9a-f]{12}\b|\[[A-Z_]+\]/;
const read = (dir: string, name: string) => readFileSync(join(dir, name));

const sensitive = readdirSync(corpus)
  .filter((f) => labels[f]?.pii || labels[f]?.secret)
  .sort();

t.test('after anonymize, layer 1 finds no PII or secret in any sensitive corpus file', async (t) => {
  t.ok(sensitive.length >= 40, `${sensitive.length} labelled files hold PII or secrets`);
  for (const name of sensitive) {
    const input = read(corpus, name);
    if (classifier.classifyBuffer(input, { path: name }).partial) continue; // binary: refused, tested below
    const r = anonymize(input, { key, path: name });
    t.same(r.remaining, [], `${name}: nothing left by the re-scan`);
    const left = classifier.classifyBuffer(r.output, { path: name }).findings.filter((f) => f.category === 'pii' || f.category === 'secret');
    t.same(left, [], `${name}: layer 1 finds no PII/secret in the output`);
    t.ok(r.replaced.length > 0, `${name}: something was replaced`);
  }
});

t.test('every non-binary corpus file anonymizes with nothing remaining, sensitive or not', async (t) => {
  for (const name of readdirSync(corpus).sort()) {
    const input = read(corpus, name);
    if (classifier.classifyBuffer(input).partial) continue;
    t.same(anonymize(input, { key, path: name }).remaining, [], name);
  }
});

t.test('lines that identify no one are byte-identical and no line is added or lost', async (t) => {
  for (const name of ['hr_memo_termination.txt', 'env.production', 'payments.json', 'crm_export.csv', 'deploy_key.pem', 'support_ticket_4471.eml']) {
    const input = read(corpus, name).toString('utf8');
    const out = anonymize(Buffer.from(input), { key, path: name }).output.toString('utf8');
    const a = input.split('\n');
    const b = out.split('\n');
    if (name === 'deploy_key.pem') {
      t.same(b, ['-----BEGIN PRIVATE KEY-----', '[PRIVATE_KEY]', '-----END PRIVATE KEY-----', ''], 'a PEM body goes whole; the armour stays');
      continue;
    }
    t.equal(b.length, a.length, `${name}: same number of lines`);
    let same = 0;
    for (let i = 0; i < a.length; i++) {
      if (TOKEN.test(b[i]!)) {
        // Around the tokens, the line is the original: every untouched piece appears in order.
        let at = 0;
        for (const piece of b[i]!.split(new RegExp(TOKEN.source, 'g'))) {
          const found = a[i]!.indexOf(piece, at);
          t.ok(found >= 0, `${name}:${i + 1}: ${JSON.stringify(piece)} kept`);
          at = found + piece.length;
        }
      } else {
        t.equal(b[i], a[i], `${name}:${i + 1} unchanged`);
        same++;
      }
    }
    t.ok(same > 0, `${name}: some lines are untouched`);
  }
});

t.test('CSV: columns the dictionary names are replaced in every row, the others are untouched', async (t) => {
  const input = read(corpus, 'crm_export.csv').toString('utf8');
  const r = anonymize(Buffer.from(input), { key, path: 'crm_export.csv' });
  t.same(r.columns, [
    { header: 'first_name', type: 'name' },
    { header: 'last_name', type: 'name' },
    { header: 'email', type: 'email' },
    { header: 'phone', type: 'phone' },
  ]);
  const rows = (s: string) => s.trim().split('\n').map((l) => l.split(','));
  const [head, ...data] = rows(input);
  const [outHead, ...outData] = rows(r.output.toString('utf8'));
  t.same(outHead, head, 'the header row is kept');
  t.equal(outData.length, data.length);
  for (const [i, row] of outData.entries()) {
    const orig = data[i]!;
    t.same([row[0], row[5], row[6]], [orig[0], orig[5], orig[6]], `row ${i + 1}: id, company, created_at unchanged`);
    t.match(row[1], /^name_[0-9a-f]{12}$/);
    t.match(row[3], /^email_[0-9a-f]{12}$/);
    t.match(row[4], /^phone_[0-9a-f]{12}$/);
  }
  t.same(r.replaced, [
    { type: 'email', count: data.length },
    { type: 'name', count: 2 * data.length },
    { type: 'phone', count: data.length },
  ]);
  for (const row of data) t.notOk(r.output.includes(row[3]!), 'no original email is left');
});

t.test('joins survive: one value gets one token in a CSV column and in prose, and only under the same key', async (t) => {
  const crm = anonymize(read(corpus, 'crm_export.csv'), { key, path: 'crm_export.csv' }).output.toString('utf8');
  const mail = anonymize(read(join(fixtures, 'anonymize'), 'crm_followup.eml'), { key }).output.toString('utf8');
  const first = crm.split('\n')[1]!.split(',');
  t.ok(mail.includes(first[3]!), 'the email token of the CSV column appears in the follow-up (written in upper case there)');
  t.ok(mail.includes(first[4]!), 'the phone token too');
  t.equal(first[3], pseudonym(key, 'email', 'hannah.farouk21@acme-corp.com'));
  t.notOk(mail.includes('HANNAH.FAROUK21'), 'the address itself is gone');
  const other = anonymize(read(corpus, 'crm_export.csv'), { key: Buffer.alloc(32, 1), path: 'crm_export.csv' }).output.toString('utf8');
  t.not(other.split('\n')[1]!.split(',')[3], first[3], 'another key gives other tokens');
  t.match(first[3], /^email_[0-9a-f]{12}$/);
});

t.test('quoted CSV fields stay valid: same cells per row, quotes kept, values replaced inside them', async (t) => {
  const input = read(join(fixtures, 'anonymize'), 'quoted.csv');
  const r = anonymize(input, { key, path: 'quoted.csv' });
  const perRow = (b: Buffer) => {
    const n: number[] = [];
    for (const c of cellSpans(b, ',')) n[c.row] = (n[c.row] ?? 0) + 1;
    return n;
  };
  t.same(perRow(r.output), perRow(input), 'the table shape is unchanged');
  const out = r.output.toString('utf8');
  t.match(out, /^1,"name_[0-9a-f]{12}","email_[0-9a-f]{12}","likes ""quoted"" text, and commas",12\.50$/m);
  t.match(out, /^2,"name_[0-9a-f]{12}",email_[0-9a-f]{12},"multi\nline note",7\.00$/m);
  t.match(out, /^3,"",,"no name here",0$/m, 'empty cells stay empty');
  t.notOk(out.includes('Alice') || out.includes('bob.oneil'), 'the values are gone');
});

t.test('secrets are always masked, never pseudonymised; mask mode masks PII too', async (t) => {
  const env = anonymize(read(corpus, 'env.production'), { key, path: 'env.production' }).output.toString('utf8');
  t.match(env, /^STRIPE_SECRET_KEY=\[STRIPE_KEY\]$/m);
  t.match(env, /postgres:\/\/orders:\[CREDENTIALS_IN_URL\]@orders-db/);
  t.notMatch(env, /_[0-9a-f]{12}\b/, 'no pseudonym for a secret');
  const memo = anonymize(read(corpus, 'hr_memo_termination.txt'), { key, mode: 'mask' });
  t.match(memo.output.toString('utf8'), /^Social Security Number: \[SSN\]$/m);
  t.match(memo.output.toString('utf8'), /^Date of birth: \[DATE_OF_BIRTH\]$/m);
  t.same(memo.replaced, [
    { type: 'date_of_birth', count: 1 },
    { type: 'ssn', count: 1 },
  ]);
  t.same(memo.remaining, []);
});

t.test('a secret overlapping a PII value wins: the whole span is masked', async (t) => {
  const r = anonymize(Buffer.from('handoff sk=alice.martin@acme-corp.com done\n'), {
    key,
    extraRules: [{ id: 'handoff_key', category: 'secret', pattern: 'sk=[A-Za-z0-9.@-]+' }],
  });
  t.equal(r.output.toString(), 'handoff [HANDOFF_KEY] done\n');
  t.same(r.replaced, [{ type: 'handoff_key', count: 1 }]);
});

t.test('binary input, a short key and an unknown mode are refused with a code', async (t) => {
  t.throws(() => anonymize(read(corpus, 'chart.png'), { key }), { name: 'ClassifyError', code: 'binary_input' });
  t.throws(() => anonymize(Buffer.from('x'), { key: Buffer.alloc(8) }), { name: 'ClassifyError', code: 'key_invalid' });
  t.throws(() => anonymize(Buffer.from('x'), { key, mode: 'scramble' as never }), { name: 'ClassifyError', code: 'mode_invalid' });
});

t.test('user rules are located and replaced like built-in ones', async (t) => {
  const r = anonymize(Buffer.from('employee EMP-004211 joined\n'), { key, extraRules: [{ id: 'employee_id', category: 'pii', pattern: '\\bEMP-[0-9]{6}\\b' }] });
  t.match(r.output.toString(), /^employee employee_id_[0-9a-f]{12} joined\n$/);
  t.same(r.replaced, [{ type: 'employee_id', count: 1 }]);
});

t.test('a private key loses its whole body: PEM to its END line or, cut short, its base64 lines; a base64 key its run only', async (t) => {
  const pem = read(corpus, 'deploy_key.pem').toString('utf8');
  const body = pem.split('\n').slice(1, -2);
  const cut = ['-----BEGIN PRIVATE KEY-----', ...body.slice(0, 5), 'next: section', ''].join('\n');
  t.equal(anonymize(Buffer.from(cut), { key }).output.toString(), '-----BEGIN PRIVATE KEY-----\n[PRIVATE_KEY]\nnext: section\n');
  const kube = read(corpus, 'kubeconfig').toString('utf8').replace(/\n$/, '') + '\nusers2:\n- name: other\n';
  const out = anonymize(Buffer.from(kube), { key }).output.toString();
  t.match(out, /^ {4}client-key-data: \[PRIVATE_KEY\]\nusers2:\n- name: other\n$/m, 'the next YAML line is untouched');
});

t.test('input beyond the 8 MiB sync limit is anonymized in pieces cut at line breaks', async (t) => {
  const rows = ['id,note'];
  for (let i = 0; rows.length < 200_000; i++) rows.push(`${i},contact person${i}.lastname@acme-corp.com about order ${i} today`);
  const big = Buffer.from(rows.join('\n') + '\n');
  t.ok(big.length > 8 * 1024 * 1024, `${(big.length / 1048576).toFixed(1)} MiB`);
  const r = anonymize(big, { key, path: 'big.csv' });
  t.same(r.replaced, [{ type: 'email', count: rows.length - 1 }]);
  t.same(r.remaining, []);
  t.equal(r.output.toString('utf8').split('\n')[150_000], `149999,contact ${pseudonym(key, 'email', 'person149999.lastname@acme-corp.com')} about order 149999 today`);
});

t.test('a PEM key across a piece boundary of a huge input is still replaced whole', async (t) => {
  const pem = read(corpus, 'deploy_key.pem').toString('utf8');
  const [header, ...rest] = pem.split('\n');
  const limit = 8 * 1024 * 1024 - 2 * 64 * 1024;
  // Filler lines so that the header's line break is the last one before the first piece ends.
  const fillerBytes = limit - 10 - header!.length;
  const line = 'lorem ipsum dolor sit amet\n';
  const filler = line.repeat(Math.floor(fillerBytes / line.length)) + 'x'.repeat((fillerBytes % line.length) - 1) + '\n';
  const buf = Buffer.from(filler + header + '\n' + rest.join('\n'));
  t.equal(buf.indexOf(header!) + header!.length + 1, limit - 9);
  const r = anonymize(buf, { key });
  t.same(r.replaced, [{ type: 'private_key', count: 1 }]);
  t.same(r.remaining, []);
  t.ok(r.output.subarray(-80).toString().endsWith('-----BEGIN PRIVATE KEY-----\n[PRIVATE_KEY]\n-----END PRIVATE KEY-----\n'));
});

t.test('an anonymised table is no longer personal data by its header; one real value left in a column still is', async (t) => {
  for (const name of ['crm_export.csv', 'payroll_2025_03.csv', 'admissions.tsv', 'drivers.csv']) {
    t.equal(classifier.classifyBuffer(read(corpus, name), { path: name }).tier, 'PROPRIETARY', `${name} before`);
    for (const mode of ['pseudonymise', 'mask'] as const) {
      const out = anonymize(read(corpus, name), { key, path: name, mode }).output;
      const c = classifier.classifyBuffer(out, { path: name });
      t.equal(c.tier, 'PUBLIC', `${name} after (${mode}): ${c.reasoning}`);
    }
  }
  const table = 'id,dob,notes\n1,date_of_birth_0123456789ab,x\n2,[DATE_OF_BIRTH],y\n3,1984-07-23,z\n';
  t.equal(classifier.classifyBuffer(Buffer.from(table), { path: 't.csv' }).tier, 'PROPRIETARY', 'a dob column with one real date is still a PII column');
});

t.test('named fields (JSON, YAML, .env) whose name is in the column dictionary are replaced whole', async (t) => {
  const yaml = anonymize(read(corpus, 'visa_applicant.yaml'), { key, path: 'visa_applicant.yaml' });
  const out = yaml.output.toString('utf8');
  t.match(out, /^ {2}given_name: name_[0-9a-f]{12}$/m);
  t.match(out, /^ {2}passport_number: passport_[0-9a-f]{12}$/m);
  t.match(out, /^ {2}travel_dates: \[2025-06-01, 2025-06-14\]$/m, 'other fields unchanged');
  t.same(yaml.columns.map((c) => c.header), ['given_name', 'surname', 'date_of_birth', 'passport_number', 'nationality']);
  t.notOk(out.includes('Okafor') || out.includes('A9624097'));

  const json = Buffer.from('{"employees": [{"full_name": "Ana \\"Nan\\" Ruiz", "annual_salary": 131000, "team": "eng", "email": ""}]}\n');
  const j = anonymize(json, { key });
  const parsed = JSON.parse(j.output.toString()) as { employees: Array<Record<string, string>> };
  const e = parsed.employees[0]!;
  t.match(e.full_name, /^name_[0-9a-f]{12}$/, 'an escaped quote inside the value goes with it');
  t.match(e.annual_salary, /^salary_[0-9a-f]{12}$/, 'a bare number becomes a quoted token: the JSON stays valid');
  t.equal(e.team, 'eng');
  t.equal(e.email, '', 'empty values stay empty');

  const env = anonymize(Buffer.from('# contact\nMOBILE="+44 7911 123456"\nPHONE=\nip = 81.2.69.160  # office\nzip: null\n'), { key, mode: 'mask' });
  t.equal(env.output.toString(), '# contact\nMOBILE="[PHONE]"\nPHONE=\nip = [IP_ADDRESS]  # office\nzip: null\n');
});

t.test('every anonymised JSON file of the corpus is still valid JSON', async (t) => {
  for (const name of readdirSync(corpus).filter((f) => /\.json$/.test(f))) {
    const out = anonymize(read(corpus, name), { key, path: name }).output.toString('utf8');
    t.doesNotThrow(() => JSON.parse(out), name);
  }
  for (const line of anonymize(read(corpus, 'signup_events.jsonl'), { key }).output.toString('utf8').trim().split('\n')) t.doesNotThrow(() => JSON.parse(line));
});
