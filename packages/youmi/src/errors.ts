import { defineErrorCatalogue, type ErrorCatalogue } from '@kefu/core';

/**
 * The error catalogue of @kefu/youmi (codes prefixed `YOUMI_`). Platform failures keep
 * Youmi's numeric code in `details.platformCode` (the `errmsg` field of the envelope);
 * docs/providers/youmi.md lists every code with its fix.
 */
export const youmiErrorCatalogue = {
  YOUMI_CONFIG_INVALID: {
    description: 'The Youmi provider configuration is missing a field or has a wrong value.',
    fix: 'Correct the field named in the message (see the options table in docs/providers/youmi.md).',
  },
  YOUMI_REQUEST_INVALID: {
    description: 'A call was given bad arguments (empty fansKey, non-positive wechatId, bad page size).',
    fix: 'Correct the argument named in the message before calling again.',
  },
  YOUMI_AUTH_FAILED: {
    description: 'The token endpoint refused the credentials or answered without a usable token.',
    fix: 'Check `clientId`, `clientSecret`, `scope` and `tokenUrl` (v2) or `v1.appId`, `v1.appKey` and `v1.tokenUrl` (v1); the URL used is in the message.',
  },
  YOUMI_TOKEN_ENDPOINT_UNAVAILABLE: {
    description:
      'The token endpoint could not be reached or answered with a server error (5xx), so no token could be fetched.',
    fix: 'The URL in the message is the one used: check it (`tokenUrl`, `v1.tokenUrl`), the network and the platform status; the call is retried.',
    retryable: true,
  },
  YOUMI_TOKEN_REJECTED: {
    description:
      'The API refused the token as invalid (errmsg 10003 / 10011 or HTTP 401) with three tokens in a row, the last ones freshly issued.',
    fix: 'Another process may be revoking tokens for the same client; check the credentials and the clock.',
    retryable: true,
  },
  YOUMI_API_ERROR: {
    description:
      'The Youmi API answered `succeed: false` (or a bare HTTP 4xx); `details.platformCode` holds its `errmsg` code (错误码返回说明).',
    fix: 'Read `errdesc` in the message; fix the request (account, fan, staff) or retry if the code is transient.',
  },
  YOUMI_BAD_ENVELOPE: {
    description:
      'A response is not a Youmi envelope, its `values` do not match the documented shape (`null` where a list is documented is retried), or a row lacks a field kefu relies on.',
    fix: 'Usually a truncated body and retried; if it persists the platform changed its format: report it with the path.',
    retryable: true,
  },
  YOUMI_TIME_INVALID: {
    description:
      'A time field is not in any format the Youmi docs show (ISO-8601, `YYYY-MM-DD HH:mm:ss[.fffffff]`, `YYYY/M/D H:mm:ss`).',
    fix: 'The message names the field and the value; report the format so the parser can learn it.',
  },
  YOUMI_PAGING_INCONSISTENT: {
    description:
      'GetChat answered pages that cannot all be true (a full page of chats already read on the previous page): reading on could lose or repeat chats.',
    fix: 'The server does not page by `pageIndex` as documented; report the answer (fan and page) to the platform.',
    retryable: true,
  },
  YOUMI_CHECKPOINT_INVALID: {
    description: 'A resume checkpoint does not hold a Youmi record position.',
    fix: 'Use a checkpoint produced by this provider for the same wechatId, or delete it to start from `from`.',
  },
  YOUMI_ACCOUNT_UNKNOWN: {
    description: 'A query or call names a wechatId that is not configured.',
    fix: 'Add the wechatId to `wechatIds` in the provider configuration or query one of those listed.',
  },
  YOUMI_CALLBACK_INVALID: {
    description: 'A callback body was not JSON or did not match the documented event format.',
    fix: 'The sender is answered 400; check that the URL is only registered for Youmi callbacks.',
  },
  YOUMI_RECEIVER_FAILED: {
    description: 'The standalone callback server could not listen or close.',
    fix: 'Choose a free port and a host this machine owns.',
  },
} as const satisfies ErrorCatalogue<string>;

/** Creates a @kefu/youmi error by code. */
export const youmiError = defineErrorCatalogue(youmiErrorCatalogue);
/** The codes of @kefu/youmi. */
export type YoumiErrorCode = keyof typeof youmiErrorCatalogue;
