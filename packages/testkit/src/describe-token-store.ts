import { type TokenStoreUnderTest, tokenStoreChecks } from '@kefu/core/token-store-conformance';
import { afterAll, describe, it } from 'vitest';

/** What a token-store author hands to {@link describeTokenStore}. */
export interface TokenStoreSetup extends TokenStoreUnderTest {
  /** Closes every handle `open()` returned and removes what the run stored. */
  teardown?: () => Promise<void>;
}

/**
 * The token-store conformance suite (the checks of `@kefu/core/token-store-conformance`),
 * one vitest test per check: call it from your own test file.
 *
 * @example
 * ```ts
 * describeTokenStore('memory', async () => {
 *   const store = new MemoryTokenStore();
 *   return { open: () => store, sharedAcrossHandles: false };
 * });
 * ```
 */
export function describeTokenStore(name: string, setup: () => Promise<TokenStoreSetup>): void {
  describe(`${name} (token-store conformance)`, () => {
    let subject: Promise<TokenStoreSetup> | undefined;
    const current = () => {
      subject ??= setup();
      return subject;
    };
    afterAll(async () => {
      if (subject) await (await subject).teardown?.();
    });
    for (const check of tokenStoreChecks) {
      it(check.name, async () => {
        await check.run(await current());
      });
    }
  });
}
