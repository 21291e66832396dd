/** One target of `kefu sync`'s summary (the fields these tests read). */
export interface SummaryTarget {
  target: string;
  provider: string;
  account: string;
  status: string;
  records: number;
  pages: number;
  retries: number;
  invalidRecords: number;
  warnings: { count: number; distinct: Array<{ code: string; message: string }> };
  error?: { code: string; message: string; fix?: string };
  resumable?: boolean;
}

/** `kefu sync`'s summary as the JSON line it writes on stderr without a terminal. */
export interface SummaryLine {
  level: string;
  msg: string;
  records: number;
  failed: number;
  resumable: number;
  targets: SummaryTarget[];
}

/**
 * The `sync summary` line of a `kefu sync` stderr; fails when any stderr line is not JSON
 * (without a terminal, stderr is JSON lines only) or when there is not exactly one summary.
 */
export function summaryOfStderr(stderr: string): SummaryLine {
  const entries = stderr
    .trimEnd()
    .split('\n')
    .map((line) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        throw new Error(`a stderr line is not JSON: ${line}`);
      }
    });
  const summaries = entries.filter((entry) => entry.msg === 'sync summary');
  if (summaries.length !== 1) throw new Error(`expected one sync summary line, got ${summaries.length}:\n${stderr}`);
  return summaries[0] as unknown as SummaryLine;
}
