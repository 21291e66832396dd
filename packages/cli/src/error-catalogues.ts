import { coreErrorCatalogue, type ErrorCatalogue, errorCatalogueMarkdown } from '@kefu/core';
import { databaseSinkErrorCatalogue } from '@kefu/sink-db';
import { fileSinkErrorCatalogue } from '@kefu/sink-file';
import { httpSinkErrorCatalogue } from '@kefu/sink-http';
import { natsSinkErrorCatalogue } from '@kefu/sink-nats';
import { syncWorkersErrorCatalogue } from '@kefu/sync-workers';
import { redisTokenStoreErrorCatalogue } from '@kefu/token-store-redis';
import { wechatCryptoErrorCatalogue } from '@kefu/wechat-crypto';
import { wechatMpErrorCatalogue } from '@kefu/wechat-mp';
import { wecomKfErrorCatalogue } from '@kefu/wecom-kf';
import { youmiErrorCatalogue } from '@kefu/youmi';
import { cliErrorCatalogue } from './errors.js';

/** Every error catalogue the CLI knows, by package: what `kefu errors` and docs/errors.md list. */
export const ERROR_CATALOGUES: ReadonlyArray<{ packageName: string; catalogue: ErrorCatalogue<string> }> = [
  { packageName: '@kefu/core', catalogue: coreErrorCatalogue },
  { packageName: '@kefu/wechat-mp', catalogue: wechatMpErrorCatalogue },
  { packageName: '@kefu/wechat-crypto', catalogue: wechatCryptoErrorCatalogue },
  { packageName: '@kefu/youmi', catalogue: youmiErrorCatalogue },
  { packageName: '@kefu/wecom-kf', catalogue: wecomKfErrorCatalogue },
  { packageName: '@kefu/sink-file', catalogue: fileSinkErrorCatalogue },
  { packageName: '@kefu/sink-http', catalogue: httpSinkErrorCatalogue },
  { packageName: '@kefu/sink-db', catalogue: databaseSinkErrorCatalogue },
  { packageName: '@kefu/sink-nats', catalogue: natsSinkErrorCatalogue },
  { packageName: '@kefu/sync-workers', catalogue: syncWorkersErrorCatalogue },
  { packageName: '@kefu/token-store-redis', catalogue: redisTokenStoreErrorCatalogue },
  { packageName: '@kefu/cli', catalogue: cliErrorCatalogue },
];

const INTRODUCTION = `# Error catalogue

Every error kefu raises is a \`KefuError\` with a stable \`code\`, a message that says what
was wrong (secrets redacted), \`fix\` (from the catalogue below), \`retryable\`, and
secret-free \`details\` (field paths, HTTP status, platform codes). Check errors with
\`isKefuError(error)\` and \`error.code\`, not \`instanceof\`: two copies of core in one
process break \`instanceof\`.

\`\`\`ts
import { isKefuError } from '@kefu/core';

try {
  await kefu.sync({ from, to }).done;
} catch (error) {
  if (isKefuError(error)) console.error(error.code, error.message, '→', error.fix);
  throw error;
}
\`\`\`

Each package declares its own catalogue in \`src/errors.ts\` with \`defineErrorCatalogue\`;
codes carry the package's prefix. "Retried" says whether kefu's retry loops (HTTP client,
provider clients, sync pipeline) try again by themselves. \`kefu errors <CODE>\` prints one
entry; \`kefu errors\` prints them all.

- \`KEFU_HTTP_NETWORK\` is retryable for resets, refusals and DNS failures; not for a
  closed client or an invalid request.
- \`KEFU_CONFIG_INVALID\` names the config position and field:
  \`providers[0] (wechat-mp) config.accounts.0.secret: Required (expected string)\`.
- Platform codes: WeChat errcodes become \`WECHAT_<errcode>\` (errcode -1 is
  \`WECHAT_SYSTEM_BUSY\`) with the errcode in \`details\`; Youmi failures are
  \`YOUMI_API_ERROR\` with the numeric \`errmsg\` in \`details.platformCode\`.
- A daily quota (WeChat 45009) carries \`details.quotaExhausted = true\`: the sync stops that
  account cleanly and resumes from its checkpoint on the next run (\`kefu sync\` exits 3).

This file is generated from the catalogues: \`pnpm run docs:errors\` rewrites it, and a
test fails when it differs from them.
`;

/** docs/errors.md, generated from every catalogue. */
export function errorsDocument(): string {
  const sections = ERROR_CATALOGUES.map(
    ({ packageName, catalogue }) => `## ${packageName}\n\n${errorCatalogueMarkdown(catalogue)}\n`,
  );
  return `${INTRODUCTION}\n${sections.join('\n')}`;
}

/** The catalogue entry of one code, with its package. */
/**
 * The entries a platform's numeric code maps to (`45009` → `WECHAT_45009`; `-1` →
 * `WECHAT_SYSTEM_BUSY`; Youmi's `10003` → `YOUMI_TOKEN_REJECTED`): codes ending in
 * `_<number>`, and entries whose description names the number.
 */
export function findPlatformCode(platformCode: string) {
  const mentions = new RegExp(`(^|[^\\d-])${platformCode.replace('-', '\\-')}(?!\\d)`);
  return ERROR_CATALOGUES.flatMap(({ packageName, catalogue }) =>
    Object.entries(catalogue)
      .filter(([code, entry]) => code.endsWith(`_${platformCode}`) || mentions.test(entry.description))
      .map(([code, entry]) => ({ packageName, code, ...entry })),
  );
}

/** The catalogue entry of a kefu error code, if any. */
export function findErrorCode(code: string) {
  for (const { packageName, catalogue } of ERROR_CATALOGUES) {
    const entry = catalogue[code];
    if (entry) return { packageName, code, ...entry };
  }
  return undefined;
}
