import { describe, expect, it } from 'vitest';
import { formatFleetTable } from '../src/commands/worker-admin-command.js';

describe('kefu worker status on a terminal', () => {
  it('given accounts in several states, when formatted, then a summary line and aligned rows show state, worker, lag and error', () => {
    const base = {
      providerId: 'wx',
      lastStatus: 'done',
      lastRecords: 10,
      syncs: 1,
      claims: 1,
      consecutiveFailures: 0,
      attempt: null,
      heldBy: null,
      lastError: null,
    };
    const table = formatFleetTable({
      job: 'hourly',
      byState: { running: 1, dead: 1 },
      workers: { 'host:1': ['wx/a'] },
      accounts: [
        {
          ...base,
          target: 'wx/a',
          account: 'a',
          state: 'running',
          heldBy: 'host:1',
          attempt: 1,
          nextDueAt: '2026-12-06T05:00:00.000Z',
          lastSyncedAt: '2026-12-06T04:00:00.000Z',
          lagSeconds: 3600,
        },
        {
          ...base,
          target: 'wx/b',
          account: 'b',
          state: 'dead',
          lastStatus: 'failed',
          lastError: `errcode 40125: invalid appsecret ${'x'.repeat(80)}`,
          nextDueAt: null,
          lastSyncedAt: null,
          lagSeconds: null,
        },
      ],
    });
    const lines = table.split('\n');
    expect(lines[0]).toBe('job hourly: 2 accounts (running 1, dead 1)');
    expect(lines[1]).toMatch(/^ACCOUNT\s+STATE\s+WORKER\s+TRY\s+NEXT\/STARTED\s+LAST SYNC\s+LAG\s+SYNCS\s+LAST ERROR$/);
    expect(lines[2]).toMatch(
      /^wx\/a\s+running\s+host:1\s+1\s+2026-12-06 05:00:00Z\s+2026-12-06 04:00:00Z\s+60m\s+1\s+-$/,
    );
    expect(lines[3]).toMatch(/^wx\/b\s+dead\s+-\s+-\s+-\s+-\s+-\s+1\s+errcode 40125: invalid appsecret x+…$/);
    // Columns line up: STATE starts at the same offset in every row.
    expect(new Set(lines.slice(1).map((line) => line.search(/running|dead|STATE/))).size).toBe(1);
  });
});
