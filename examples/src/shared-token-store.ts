/**
 * Sharing WeChat access tokens through DI: every process that calls WeChat for one app id
 * must use the same token (asking for a new one invalidates the old, see the WeChat
 * provider's README). Bind a token store of your own — Redis (`@kefu/token-store-redis`),
 * your app's cache, a central token service — under `TOKENS.TokenStore` with
 * `createKefu({ modules })`, and every WeChat provider uses it instead of its configured one.
 *
 * Here two runtimes (standing for two processes) share one store kept in the app: the
 * emulator's token endpoint is called once, however many runtimes read records.
 *
 * Run it: `node examples/dist/src/shared-token-store.js` (after `pnpm build`).
 */
import { pathToFileURL } from 'node:url';
import { createKefu, registerSecret, type StoredToken, silentLogger, TOKENS, type TokenStore } from '@kefu/core';
import { startEmulator } from '@kefu/emulator';
import { plugin as wechatMp } from '@kefu/wechat-mp';
import { ContainerModule } from 'inversify';

/** The app's own token store: a map here; your cache or token service in production. */
export class AppTokenStore implements TokenStore {
  readonly #tokens = new Map<string, StoredToken>();
  /** How many tokens were stored (one per refresh). */
  writes = 0;

  async get(appId: string): Promise<StoredToken | undefined> {
    return this.#tokens.get(appId);
  }

  async set(appId: string, token: StoredToken): Promise<void> {
    // Tokens are secrets: registered, they are scrubbed from every log line and error.
    registerSecret(token.token);
    this.writes += 1;
    this.#tokens.set(appId, token);
  }

  async invalidate(appId: string, token: string): Promise<boolean> {
    if (this.#tokens.get(appId)?.token !== token) return false;
    return this.#tokens.delete(appId);
  }
}

/** What the walkthrough saw. */
export interface SharedTokenWalkthrough {
  /** Records each runtime read. */
  recordsPerRuntime: number[];
  /** Calls the emulator's token endpoint answered. */
  tokenRequests: number;
  /** Tokens the shared store received. */
  storeWrites: number;
}

/** Starts the emulator, then reads one day of records from two runtimes sharing one token store. */
export async function main(): Promise<SharedTokenWalkthrough> {
  const emulator = await startEmulator({ seed: 'shared-tokens', wechat: { accounts: 1, days: 2, recordsPerDay: 50 } });
  const account = emulator.wechat.accounts[0]!;
  const store = new AppTokenStore();
  // The one binding that makes every WeChat provider of a runtime use the app's store.
  const sharedTokens = new ContainerModule(({ bind }) => {
    bind<TokenStore>(TOKENS.TokenStore).toConstantValue(store);
  });
  const to = new Date(emulator.clock.now());
  const from = new Date(to.getTime() - 86_400_000);
  try {
    const recordsPerRuntime: number[] = [];
    for (let process = 0; process < 2; process++) {
      const kefu = await createKefu({
        providers: [{ use: wechatMp, id: 'wechat', config: { baseUrl: emulator.wechat.baseUrl, accounts: [account] } }],
        modules: [sharedTokens],
        logger: silentLogger,
      });
      try {
        let records = 0;
        for await (const page of kefu.provider('wechat').records({ account: account.appId, from, to })) {
          records += page.records.length;
        }
        recordsPerRuntime.push(records);
      } finally {
        await kefu.close();
      }
    }
    return {
      recordsPerRuntime,
      tokenRequests: emulator.requests.count({ path: /\/cgi-bin\/(stable_)?token$/ }),
      storeWrites: store.writes,
    };
  } finally {
    await emulator.stop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(JSON.stringify(await main(), null, 2));
}
