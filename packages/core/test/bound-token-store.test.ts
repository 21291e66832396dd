import { Container } from 'inversify';
import { describe, expect, it } from 'vitest';
import { boundTokenStore, MemoryTokenStore, TOKENS, type TokenStore } from '../src/index.js';

// What a provider plugin's module does: resolve the token store bound in the container, if any.
const PROVIDER = Symbol.for('test.provider');

function resolveIn(container: Container): TokenStore | undefined {
  container.bind<{ store: TokenStore | undefined }>(PROVIDER).toDynamicValue((resolution) => ({
    store: boundTokenStore(resolution),
  }));
  return container.get<{ store: TokenStore | undefined }>(PROVIDER).store;
}

describe('boundTokenStore', () => {
  it('given no store bound, then undefined (the provider uses the one its config names)', () => {
    expect(resolveIn(new Container())).toBeUndefined();
  });

  it('given a store bound under TOKENS.TokenStore, in this container or a parent, then that store', () => {
    const store = new MemoryTokenStore();
    const container = new Container();
    container.bind<TokenStore>(TOKENS.TokenStore).toConstantValue(store);
    expect(resolveIn(container)).toBe(store);
    const parent = new Container();
    parent.bind<TokenStore>(TOKENS.TokenStore).toConstantValue(store);
    expect(resolveIn(new Container({ parent }))).toBe(store);
  });

  it('given something bound that is not a token store, then KEFU_PLUGIN_INVALID names what is missing', () => {
    const container = new Container();
    container.bind(TOKENS.TokenStore).toConstantValue({ get: () => undefined });
    expect(() => resolveIn(container)).toThrow(
      expect.objectContaining({ code: 'KEFU_PLUGIN_INVALID', message: expect.stringContaining('get/set/invalidate') }),
    );
  });
});
