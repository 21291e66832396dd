import type { KefuPlugin, LazyBundledPlugin } from '@kefu/core';

/**
 * The plugins the CLI ships with: usable by name without installing them next to the
 * config. Each is imported only when a config names it, so a sync loads the code of the
 * plugins it uses, not of all seven (with their drivers): 2–8 MiB less peak RSS.
 */
export const BUNDLED_PLUGINS: readonly LazyBundledPlugin[] = [
  { name: '@kefu/wechat-mp', load: async () => (await import('@kefu/wechat-mp')).plugin },
  { name: '@kefu/youmi', load: async () => (await import('@kefu/youmi')).plugin },
  { name: '@kefu/wecom-kf', load: async () => (await import('@kefu/wecom-kf')).plugin },
  { name: '@kefu/sink-file', load: async () => (await import('@kefu/sink-file')).plugin },
  { name: '@kefu/sink-http', load: async () => (await import('@kefu/sink-http')).plugin },
  { name: '@kefu/sink-db', load: async () => (await import('@kefu/sink-db')).plugin },
  { name: '@kefu/sink-nats', load: async () => (await import('@kefu/sink-nats')).plugin },
];

/** Every bundled plugin, imported (for `kefu schema`, which describes them all). */
export function loadBundledPlugins(): Promise<KefuPlugin[]> {
  return Promise.all(BUNDLED_PLUGINS.map((entry) => entry.load()));
}
