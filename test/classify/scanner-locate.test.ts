// locate(): byte offsets of every validated value. Each PII/secret rule's true positives in
// rules/builtin.yaml must be located exactly at the value below, and its look-alikes not at all.
import t from 'tap';
import { compileRules, locate, scanSync, syncMaxBytes } from '../../src/classify/native.js';
import { loadBuiltin, toNative } from '../../src/classify/rules.js';

const { rules } = loadBuiltin();
const set = compileRules(rules.map(toNative));

// The value a reader would point at in each true positive of the rule table.
const VALUE: Record<string, string> = {
  'contact: maria.gonzalez@acme-corp.com': 'maria.gonzalez@acme-corp.com',
  '"email": "j.smith+billing@mail.co.uk"': 'j.smith+billing@mail.co.uk',
  'Olivia Chen <olivia.chen@northwind.io>': 'olivia.chen@northwind.io',
  'mobile: +44 7911 123456': '+44 7911 123456',
  'tel +1 (415) 867-2309': '+1 (415) 867-2309',
  '+4915112345678': '+4915112345678',
  'Call (212) 736-5000 after 5pm': '(212) 736-5000',
  'cell: 312-867-4421': '312-867-4421',
  'phone 646.555.9012': '646.555.9012',
  'Tel. 020 7946 0958': '020 7946 0958',
  'Telefon: (030) 1234 5678': '(030) 1234 5678',
  'portable 06 12 34 56 78': '06 12 34 56 78',
  'SSN 536-22-8745': '536-22-8745',
  'employee,521 44 1234': '521 44 1234',
  '1001,Alice Martin,alice@acme-corp.com,536-22-8147,4539148803436467': '536-22-8147',
  '1001\t536-22-8147\t4539148803436467': '536-22-8147',
  '7;536-22-8147;0': '536-22-8147',
  '1001|"536-22-8147"|42': '536-22-8147',
  'id,flag,ssn\n7,0,536-22-8147': '536-22-8147',
  'SSN: 536228745': '536228745',
  'social security number 412905511': '412905511',
  'card 4556 7375 8689 9855': '4556 7375 8689 9855',
  '"pan": "5425233430109903"': '5425233430109903',
  'amex 3752 601815 90834': '3752 601815 90834',
  '6011-0166-1318-6097': '6011-0166-1318-6097',
  'IBAN DE89 3704 0044 0532 0130 00': 'DE89 3704 0044 0532 0130 00',
  'iban=GB82WEST12345698765432': 'GB82WEST12345698765432',
  'BE68539007547034 DATA': 'BE68539007547034',
  'client 81.2.69.160 connected': '81.2.69.160',
  'from=34.201.15.77': '34.201.15.77',
  'peer 2a00:1450:4001:81b::200e': '2a00:1450:4001:81b::200e',
  'addr=2606:4700:4700:0:0:0:0:1111': '2606:4700:4700:0:0:0:0:1111',
  'DOB: 1984-07-23': '1984-07-23',
  '"date_of_birth": "12/03/1979"': '12/03/1979',
  'Date of birth: 3 March 1961': '3 March 1961',
  'Born on March 3, 1961': 'March 3, 1961',
  'birthday: 14/02/1990': '14/02/1990',
  'aws_access_key_id = AKIA4QZ7R2MXL6TJPB3N': 'AKIA4QZ7R2MXL6TJPB3N',
  ASIAY3KD7QW2ZP4LMN8R: 'ASIAY3KD7QW2ZP4LMN8R',
  'aws_secret_access_key = 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': 'q8Vr3Lk2mZ0pT7sY1xW4nB6cD9eF5gH2jK8lM0nP',
  '"SecretAccessKey": "Zx9/Kq2+Lm4Np7Rt1Vw3Yb6Cd8Ef0Gh5Ij2Kl4Mn"': 'Zx9/Kq2+Lm4Np7Rt1Vw3Yb6Cd8Ef0Gh5Ij2Kl4Mn',
  'GITHUB_TOKEN=ghp_R8k2Lq9ZtW4mX7vB1nC5yD3fG6hJ0pS2aE4u': 'ghp_R8k2Lq9ZtW4mX7vB1nC5yD3fG6hJ0pS2aE4u',
  'token: gho_7Hd2kQ9zLr4Wm1Xv8Bn5Cy3Fg6Jp0Ts2Ae4Ui': 'gho_7Hd2kQ9zLr4Wm1Xv8Bn5Cy3Fg6Jp0Ts2Ae4Ui',
  'SLACK_BOT_TOKEN=xoxb-2847561039-4829103847562-Hq8ZkL2mW9rT4vN7xB1cY6dF': 'xoxb-2847561039-4829103847562-Hq8ZkL2mW9rT4vN7xB1cY6dF',
  'webhook: https://hooks.slack.com/services/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': 'Xk9Lq2Wm7Rt4Vn8Bc1Yd6Fg3',
  '-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEAx3k9Tq2Lw8Zm4Rv7Nb1Yc6Fd0Gh5Jk2Lp8Qs4Tu7Vw1Xy3Za6\n': 'MIIEpAIBAAKCAQEAx3k9Tq2Lw8Zm4Rv7Nb1Yc6Fd0Gh5Jk2Lp8Qs4Tu7Vw1Xy3Za6',
  '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAABlwAAAAdzc2gtcn\n':
    'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAABlwAAAAdzc2gtcn',
  'client-key-data: LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tCk1JSUV2UUlCQURBTkJna3Foa2lHOXcwQkFRRUZBQVNDQktjd2dnU2pBZ0VBQW9JQkFRRFdxOVNKaFVxQmEyd2cK':
    'LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tCk1JSUV2UUlCQURBTkJna3Foa2lHOXcwQkFRRUZBQVNDQktjd2dnU2pBZ0VBQW9JQkFRRFdxOVNKaFVxQmEyd2cK',
  'Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI0MjEiLCJyb2xlIjoiYWRtaW4ifQ.Qm9ndXNTaWduYXR1cmVCeXRlc0hlcmUxMjM':
    'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI0MjEiLCJyb2xlIjoiYWRtaW4ifQ.Qm9ndXNTaWduYXR1cmVCeXRlc0hlcmUxMjM',
  'maps_key = "AIzaSyD4kQ9zL2mX7vB1nC5yR8tW3fG6hJ0pS2a"': 'AIzaSyD4kQ9zL2mX7vB1nC5yR8tW3fG6hJ0pS2a',
  'STRIPE_SECRET_KEY=sk_live_51Hq8ZkL2mW9rT4vN7xB1cY6dF3gJ0pQ': 'sk_live_51Hq8ZkL2mW9rT4vN7xB1cY6dF3gJ0pQ',
  rk_test_4eC39HqLyjWDarjtT1zdp7dcQ2mX: 'rk_test_4eC39HqLyjWDarjtT1zdp7dcQ2mX',
  'DB_PASSWORD=Tr0ub4dor&3xK9': 'Tr0ub4dor&3xK9',
  'password: "v9#Lq2!mZx7Rk"': 'v9#Lq2!mZx7Rk',
  '  "smtp_password": "Qe7fN2pX9wLk4r",': 'Qe7fN2pX9wLk4r',
  'API_KEY=9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c': '9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c',
  'client_secret: "Zq8Lk2Wm9Rt4Vn7Xb1Cy6Df3"': 'Zq8Lk2Wm9Rt4Vn7Xb1Cy6Df3',
  '{"key": "apiKey", "value": "Zq8Lk2Wm9Rt4Vn7Xb1Cy6Df3"}': 'Zq8Lk2Wm9Rt4Vn7Xb1Cy6Df3',
  '- name: DB_PASSWORD\n  value: "Hq8zL2mW9rT4x!"': 'Hq8zL2mW9rT4x!',
  'DATABASE_URL=postgres://billing:Hq8zL2mW9rT4@db-prod.internal:5432/billing': 'Hq8zL2mW9rT4',
  'mysql -u root -pQx7rT2v91! orders < migrate.sql': 'Qx7rT2v91!',
  'Authorization: Bearer 7Fq2Lk9Wm4Rt8Vn1Xb6Cy3Df0Gh5Jp': '7Fq2Lk9Wm4Rt8Vn1Xb6Cy3Df0Gh5Jp',
};

const slice = (buf: Buffer, m: { start: number; end: number }) => buf.subarray(m.start, m.end).toString('utf8');

for (const [i, rule] of rules.entries()) {
  if (rule.category === 'keyword') continue;
  t.test(`locate puts rule ${rule.id} exactly on the value of each true positive and nowhere on its look-alikes`, async (t) => {
    for (const text of rule.matches) {
      const buf = Buffer.from(text);
      const want = VALUE[text];
      t.ok(want !== undefined, `the test knows the value in ${JSON.stringify(text)}`);
      const mine = locate(set, buf).filter((m) => m.rule === i);
      t.same(mine.map((m) => slice(buf, m)), [want], `value of ${JSON.stringify(text)}`);
      for (const m of mine) {
        t.equal(m.id, rule.id);
        t.equal(m.type, rule.type);
        t.equal(m.category, rule.category);
      }
    }
    for (const text of rule.rejects) {
      const mine = locate(set, Buffer.from(text)).filter((m) => m.rule === i);
      t.same(mine, [], `nothing located in look-alike ${JSON.stringify(text)}`);
    }
  });
}

t.test('look-alikes of the PII rules locate no strong PII of any kind', async (t) => {
  const strong = new Set(rules.filter((r) => r.category === 'pii' && r.strength === 'strong').map((r) => r.id));
  for (const rule of rules.filter((r) => r.category === 'pii')) {
    for (const text of rule.rejects) {
      const pii = locate(set, Buffer.from(text)).filter((m) => strong.has(m.id));
      t.same(pii.map((m) => m.id), [], JSON.stringify(text));
    }
  }
});

t.test('offsets are byte offsets, sorted, and agree with the per-rule counts of an exact scan', async (t) => {
  const text = 'Grüße — Zoë <zoe.martin@acme-corp.com>, SSN 536-22-8745\nkarte 4556 7375 8689 9855; SSN 536-22-8745 again\n';
  const buf = Buffer.from(text, 'utf8');
  const ms = locate(set, buf).filter((m) => m.category !== 'keyword');
  t.same(
    ms.map((m) => [m.type, slice(buf, m)]),
    [
      ['email', 'zoe.martin@acme-corp.com'],
      ['ssn', '536-22-8745'],
      ['credit_card', '4556 7375 8689 9855'],
      ['ssn', '536-22-8745'],
    ],
  );
  t.equal(ms[0]!.start, buf.indexOf('zoe.martin'), 'a multi-byte prefix shifts byte offsets, not characters');
  const counts = new Map(scanSync(set, buf, { candidateCap: 0 }).map((f) => [f.id, f.count]));
  for (const id of new Set(ms.map((m) => m.id))) t.equal(ms.filter((m) => m.id === id).length, counts.get(id), `${id}: as many located as counted`);
});

t.test('locate refuses more than the sync limit with input_too_large', async (t) => {
  t.throws(() => locate(set, Buffer.alloc(syncMaxBytes() + 1, 0x20)), { code: 'input_too_large' });
});

t.test('binary mode locates in printable runs with offsets into the original bytes', async (t) => {
  const buf = Buffer.concat([Buffer.from([0, 1, 2, 0xff]), Buffer.from('mail zoe.martin@acme-corp.com'), Buffer.from([0, 0])]);
  const ms = locate(set, buf, { binary: true }).filter((m) => m.type === 'email');
  t.same(ms.map((m) => [m.start, slice(buf, m)]), [[9, 'zoe.martin@acme-corp.com']]);
});
