/** One line of a benchmark table. */
export interface BenchRow {
  /** What was measured. */
  measure: string;
  /** The figure, formatted (e.g. `312 400 rec/s`). */
  figure: string;
  /** The ceiling it is compared with, formatted, when there is one. */
  ceiling?: string;
  /** figure / ceiling (or the ratio the target is about). */
  ratio?: number;
  /** The target, in words (`≥ 0.70`). */
  target?: string;
  /** Whether the target is met (undefined: informational row). */
  pass?: boolean;
}

/** A titled table of rows. */
export interface BenchTable {
  title: string;
  rows: BenchRow[];
  notes?: string[];
}

/** `1234567.8` → `1 234 568`. */
export function formatNumber(value: number): string {
  return Math.round(value)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ' ');
}

/** A markdown table of a benchmark. */
export function tableMarkdown(table: BenchTable): string {
  const lines = [
    `### ${table.title}`,
    '',
    '| measure | figure | ceiling | ratio | target | result |',
    '| --- | ---: | ---: | ---: | --- | --- |',
  ];
  for (const row of table.rows) {
    const result = row.pass === undefined ? '' : row.pass ? 'pass' : '**MISS**';
    const ratio = row.ratio === undefined ? '' : row.ratio.toFixed(2);
    lines.push(
      `| ${row.measure} | ${row.figure} | ${row.ceiling ?? ''} | ${ratio} | ${row.target ?? ''} | ${result} |`,
    );
  }
  for (const note of table.notes ?? []) lines.push('', `- ${note}`);
  return `${lines.join('\n')}\n`;
}
