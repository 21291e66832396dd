import { describeProvider } from '@kefu/testkit';
import { YoumiProvider } from '../src/youmi-provider.js';
import { startYoumiEmulator } from './support/youmi-emulator.js';

// The shared provider conformance suite (cold, ordered, resumable, bounded prefetch, typed errors).
describeProvider(
  'youmi on the emulator',
  async () => {
    const running = await startYoumiEmulator({ fansPerAccount: 10, chatsPerFan: 10, days: 2 });
    const provider = new YoumiProvider(running.config({ fanConcurrency: 2 }), {
      now: () => running.emulator.clock.now(),
    });
    return {
      provider,
      query: { account: '10001', from: running.start - 2 * 86_400_000, to: running.start },
      pageRequests: () => running.emulator.requests.count({ path: '/v2/ChatMess/GetChat' }),
      failingQuery: { account: '4242', from: running.start - 86_400_000, to: running.start },
      teardown: () => running.emulator.stop(),
    };
  },
  // Two pages prefetched by the stream, one in flight, plus the next fan's first page read concurrently.
  { maxPagesAhead: 4 },
);
