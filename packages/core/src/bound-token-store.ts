import type { ResolutionContext } from 'inversify';
import { coreError } from './errors.js';
import { TOKENS } from './plugin.js';
import { isTokenStore, type TokenStore } from './token-store.js';

/**
 * The token store bound under {@link TOKENS.TokenStore} (Redis, PostgreSQL, …), for a provider
 * plugin's module to pass its provider: it replaces the store the provider's config names
 * (`createConfiguredTokenStore`), so processes on many hosts share one token per app. Undefined
 * when none is bound; KEFU_PLUGIN_INVALID when what is bound has no get/set/invalidate.
 */
export function boundTokenStore(resolution: ResolutionContext): TokenStore | undefined {
  const bound = resolution.get<unknown>(TOKENS.TokenStore, { optional: true });
  if (bound === undefined) return undefined;
  if (!isTokenStore(bound)) {
    throw coreError(
      'KEFU_PLUGIN_INVALID',
      'the service bound under TOKENS.TokenStore has no get/set/invalidate methods (see TokenStore in @kefu/core)',
    );
  }
  return bound;
}
