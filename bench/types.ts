// The shape every benchmark scenario returns; bench/run.ts prints it and writes
// docs/BENCHMARKS.md. A row compares a candidate with a baseline measured in the same run.

export interface BenchRow {
  metric: string;
  value: number | string;
  unit?: string;
  /** What the value is compared with, measured in the same run (e.g. native ext4, JS RegExp). */
  baseline?: { label: string; value: number; unit?: string };
  /** value / baseline (or baseline / value for "lower is better"; say which in `note`). */
  ratio?: number;
  target?: string;
  note?: string;
}

export interface BenchSection {
  title: string;
  /** How to re-run only this scenario. */
  command: string;
  rows: BenchRow[];
  notes?: string[];
}

export type BenchScenario = () => Promise<BenchSection | BenchSection[]>;
