import { coreError, registerSecret, type SyncSummary, type SyncTargetSummary } from '@kefu/core';
import { describe, expect, it } from 'vitest';
import { summaryJson, targetSummaryLines } from '../src/index.js';

const SECRET = 'sync-summary-secret-value-1234';
registerSecret(SECRET);

const target = (overrides: Partial<SyncTargetSummary>): SyncTargetSummary => ({
  target: 'wx/wx123',
  records: 980,
  pages: 20,
  retries: 1,
  errors: 1,
  warnings: { count: 0, distinct: [] },
  invalidRecords: 0,
  status: 'done',
  ...overrides,
});

describe('kefu sync summary', () => {
  it('given a target without warnings, then its text summary is one line of counts', () => {
    expect(targetSummaryLines(target({}))).toEqual(['done            wx/wx123: 980 records, 20 pages, 1 retries']);
  });

  it('given warnings, then the line counts them and each distinct one follows, redacted', () => {
    const lines = targetSummaryLines(
      target({
        warnings: {
          count: 7,
          distinct: [
            { code: 'WECHAT_MSGLIST_NUMBER_MISMATCH', message: 'number 10000 for 37 records' },
            { code: 'P_OTHER', message: `saw ${SECRET}` },
          ],
        },
      }),
    );
    expect(lines[0]).toMatch(/, 7 warnings$/);
    expect(lines[1]).toMatch(/^ +warning WECHAT_MSGLIST_NUMBER_MISMATCH: number 10000 for 37 records$/);
    expect(lines[2]).toContain('warning P_OTHER');
    expect(lines.join('\n')).not.toContain(SECRET);
  });

  it('given a failed target, then its error code and message follow its line', () => {
    const error = coreError('KEFU_SINK_FAILED', 'the sink refused the batch');
    const lines = targetSummaryLines(target({ status: 'failed', error }));
    expect(lines[0]).toMatch(/^failed +wx\/wx123/);
    expect(lines[1]).toMatch(/^ +error KEFU_SINK_FAILED: the sink refused the batch$/);
  });

  it('given a summary, then its JSON form carries each target’s warnings and error code', () => {
    const summary: SyncSummary = {
      records: 980,
      durationMs: 5,
      stopped: false,
      targets: [
        target({
          status: 'failed',
          error: coreError('KEFU_SINK_FAILED', 'refused'),
          warnings: { count: 2, distinct: [{ code: 'P_ODD', message: 'odd' }] },
        }),
      ],
    };
    const json = JSON.parse(JSON.stringify(summaryJson(summary))) as {
      targets: Array<{ warnings: { count: number; distinct: Array<{ code: string }> }; error: { code: string } }>;
    };
    expect(json.targets[0]?.warnings).toEqual({ count: 2, distinct: [{ code: 'P_ODD', message: 'odd' }] });
    expect(json.targets[0]?.error.code).toBe('KEFU_SINK_FAILED');
  });

  it('given a stopped, a quota-stopped, a failed and a done target, then the JSON form names provider and account, marks the unfinished ones resumable and counts them', () => {
    const summary: SyncSummary = {
      records: 3,
      durationMs: 5,
      stopped: true,
      targets: [
        target({ target: 'wx/wx1', status: 'stopped', records: 0, pages: 0 }),
        target({ target: 'ym/acme/east', status: 'quota-exhausted' }),
        target({ target: 'wx/wx2', status: 'failed', error: coreError('KEFU_SINK_FAILED', `saw ${SECRET}`) }),
        target({ target: 'wx/wx3' }),
      ],
    };
    const json = JSON.parse(JSON.stringify(summaryJson(summary, { dryRun: true })));
    expect(json).toMatchObject({ stopped: true, dryRun: true, failed: 1, resumable: 2 });
    expect(json.targets.map((t: Record<string, unknown>) => [t.provider, t.account, t.resumable])).toEqual([
      ['wx', 'wx1', true],
      ['ym', 'acme/east', true],
      ['wx', 'wx2', undefined],
      ['wx', 'wx3', undefined],
    ]);
    expect(json.targets[0].resume).toBe('run again to resume');
    expect(JSON.stringify(json)).not.toContain(SECRET);
    expect(summaryJson({ ...summary, stopped: false, targets: [] })).not.toHaveProperty('dryRun');
  });
});
