import { describeProvider, startScriptedPlatform } from '@kefu/testkit';
import { describe, expect, it } from 'vitest';
import { HelpDeskProvider, helpDeskItems, main } from '../src/custom-provider.js';

describe('example: custom provider', () => {
  it('reads a day of HelpDesk items as normalized records', async () => {
    const records = await main();
    expect(records).toHaveLength(120);
    expect(records[0]).toMatchObject({ id: 'helpdesk-1', provider: 'helpdesk', account: 'acme', direction: 'inbound' });
    expect(records[1]?.agent).toBe('agent-1');
  });
});

// The example provider passes the same conformance suite as the built-in ones.
describeProvider('HelpDesk example provider', async () => {
  const platform = await startScriptedPlatform({ items: helpDeskItems(230), maxLimit: 20, token: 'conformance-token' });
  const provider = new HelpDeskProvider({
    baseUrl: platform.url,
    apiToken: 'conformance-token',
    workspace: 'acme',
    pageSize: 20,
  });
  return {
    provider,
    query: { from: '2026-11-01', to: '2026-11-02' },
    pageRequests: () => platform.itemRequests,
    failingQuery: { account: 'not-acme', from: '2026-11-01', to: '2026-11-02' },
    teardown: () => platform.stop(),
  };
});
