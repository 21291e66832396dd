import { describe, expect, it } from 'vitest';
import { nextQuotaReset, WorkerMetrics } from '../src/index.js';

describe('WorkerMetrics', () => {
  it('given a claim, a retry, a takeover, commits and endings, when scraped, then the counters use the kefu serve names', async () => {
    const metrics = new WorkerMetrics();
    metrics.observe({ type: 'claimed', target: 'wx/a', attempt: 1 });
    metrics.observe({ type: 'batch-committed', target: 'wx/a', records: 20 });
    metrics.observe({ type: 'released', target: 'wx/a', status: 'done', records: 20 });
    metrics.observe({ type: 'claimed', target: 'wx/b', attempt: 2 });
    metrics.observe({ type: 'retry-scheduled', target: 'wx/b', attempt: 2, retryLimit: 3, error: 'boom' });
    metrics.observe({ type: 'claimed', target: 'wx/b', attempt: 3, previousOwner: 'dead-worker' });
    metrics.observe({ type: 'dead-lettered', target: 'wx/b', attempts: 3, error: 'boom' });
    const { body, contentType } = await metrics.exposition();
    expect(contentType).toContain('text/plain');
    expect(body).toContain('kefu_records_in_total{provider="wx",account="a",source="worker"} 20');
    expect(body).toContain('kefu_worker_syncs_total{status="done"} 1');
    expect(body).toContain('kefu_worker_syncs_total{status="failed"} 2');
    expect(body).toContain('kefu_worker_claims_total{kind="first"} 1');
    expect(body).toContain('kefu_worker_claims_total{kind="retry"} 1');
    expect(body).toContain('kefu_worker_claims_total{kind="takeover"} 1');
    expect(body).toContain('kefu_retries_total{component="worker"} 2');
    expect(body).toContain('kefu_worker_dead_letters_total 1');
    expect(body).toContain('kefu_worker_active_accounts 0');
    expect(body).toMatch(/kefu_sync_lag_seconds\{target="wx\/a"\} \d/);
  });
});

describe('nextQuotaReset', () => {
  it.each([
    ['2026-12-06T05:00:00Z', '2026-12-06T16:00:00.000Z'],
    ['2026-12-06T15:59:59Z', '2026-12-06T16:00:00.000Z'],
    ['2026-12-06T16:00:00Z', '2026-12-07T16:00:00.000Z'],
    ['2026-12-06T23:30:00Z', '2026-12-07T16:00:00.000Z'],
  ])('given %s, then WeChat quotas reset at %s (midnight Beijing time)', (now, reset) => {
    expect(nextQuotaReset(new Date(now)).toISOString()).toBe(reset);
  });
});
