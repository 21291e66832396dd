// The token-store contract, the memory store and the file store live in core (shared by every
// provider); re-exported so existing imports from wechat-mp keep working.
export {
  FileTokenStore,
  type FileTokenStoreOptions,
  MemoryTokenStore,
  type StoredToken,
  type TokenStore,
} from '@kefu/core';
