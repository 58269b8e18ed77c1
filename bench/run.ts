// `npm run bench [-- NAME…]`: runs every scenario module in bench/ (or the named ones),
// prints the results, and writes docs/BENCHMARKS.md with the machine, the command and
// ratios against baselines measured in the same run. Benchmarks are not tests: nothing
// here passes or fails on timing.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchRow, BenchScenario, BenchSection } from './types.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, here.includes(`${path.sep}dist${path.sep}`) ? '../..' : '..');

function machine(): string[] {
  const cpus = os.cpus();
  return [
    `- CPU: ${cpus[0]?.model ?? 'unknown'} × ${cpus.length}`,
    `- memory: ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    `- kernel: ${os.type()} ${os.release()}`,
    `- Node.js: ${process.version}`,
    `- load average at the end of the run (1, 5, 15 min): ${os.loadavg().map((l) => l.toFixed(1)).join(', ')} on ${cpus.length} cores`,
    `- settings: ${Object.entries(process.env).filter(([k]) => k.startsWith('LACUNA_BENCH_')).map(([k, v]) => `${k}=${v}`).join(' ') || 'defaults'}`,
    `- date: ${new Date().toISOString()}`,
  ];
}

function fmt(v: number | string, unit?: string): string {
  if (typeof v === 'string') return v;
  const n = Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(3);
  return unit ? `${n} ${unit}` : n;
}

function row(r: BenchRow): string {
  const base = r.baseline ? `${fmt(r.baseline.value, r.baseline.unit ?? r.unit)} (${r.baseline.label})` : '';
  const ratio = r.ratio !== undefined ? `${r.ratio.toFixed(2)}×` : '';
  return `| ${r.metric} | ${fmt(r.value, r.unit)} | ${base} | ${ratio} | ${r.target ?? ''} | ${r.note ?? ''} |`;
}

function render(sections: BenchSection[], failures: string[], command: string): string {
  const out = [
    '# Benchmarks',
    '',
    `Written by \`${command}\`. The machine is shared and noisy: compare the ratios (candidate`,
    'against a baseline measured in the same run), not the absolute times.',
    '',
    '## Machine',
    '',
    ...machine(),
    '',
  ];
  for (const s of sections) {
    out.push(`## ${s.title}`, '', `Re-run: \`${s.command}\``, '', '| metric | value | baseline | ratio | target | note |', '|---|---|---|---|---|---|');
    for (const r of s.rows) out.push(row(r));
    if (s.notes?.length) out.push('', ...s.notes.map((n) => (n.startsWith('|') || n.startsWith('```') ? n : `- ${n}`)));
    out.push('');
  }
  if (failures.length) out.push('## Scenarios that failed to run', '', ...failures.map((f) => `- ${f}`), '');
  return out.join('\n');
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const files = fs
    .readdirSync(here)
    .filter((f) => /\.(js|ts)$/.test(f) && !f.endsWith('.d.ts') && !/^(run|types)\./.test(f) && !f.endsWith('.map') && !f.startsWith('_'))
    // dist/ can hold outputs of deleted sources: run only scenarios whose source is in bench/.
    .filter((f) => fs.existsSync(path.join(root, 'bench', f.replace(/\.js$/, '.ts'))))
    .filter((f) => wanted.length === 0 || wanted.includes(f.replace(/\.(js|ts)$/, '')));
  const sections: BenchSection[] = [];
  const failures: string[] = [];
  for (const f of files.sort()) {
    const mod = (await import(pathToFileURL(path.join(here, f)).href)) as { scenarios?: BenchScenario[] };
    for (const scenario of mod.scenarios ?? []) {
      const name = `${f}:${scenario.name || 'scenario'}`;
      process.stderr.write(`bench: ${name} …\n`);
      try {
        const res = await scenario();
        for (const s of Array.isArray(res) ? res : [res]) {
          sections.push(s);
          process.stdout.write(`\n${s.title}\n${s.rows.map((r) => `  ${r.metric}: ${fmt(r.value, r.unit)}${r.ratio !== undefined ? `  (${r.ratio.toFixed(2)}× vs ${r.baseline?.label ?? 'baseline'})` : ''}`).join('\n')}\n`);
        }
      } catch (e) {
        failures.push(`${name}: ${(e as Error).message}`);
        process.stderr.write(`bench: ${name} failed: ${(e as Error).stack}\n`);
      }
    }
  }
  const command = `npm run bench${wanted.length ? ` -- ${wanted.join(' ')}` : ''}`;
  const target = path.join(root, 'docs', 'BENCHMARKS.md');
  if (wanted.length && fs.existsSync(target)) {
    // A partial run replaces only its own sections in the existing page.
    const existing = fs.readFileSync(target, 'utf8');
    const kept = existing.split(/\n(?=## )/).filter((chunk) => chunk.startsWith('## ') && !['## Machine', '## Scenarios that failed to run'].some((h) => chunk.startsWith(h)) && !sections.some((s) => chunk.startsWith(`## ${s.title}\n`)));
    const merged = render(sections, failures, command) + '\n' + kept.join('\n');
    fs.writeFileSync(target, merged.replace(/\n{3,}/g, '\n\n'));
  } else {
    fs.writeFileSync(target, render(sections, failures, command));
  }
  process.stdout.write(`\nwrote ${path.relative(process.cwd(), target)}\n`);
  if (failures.length) process.exitCode = 1;
}

await main();
