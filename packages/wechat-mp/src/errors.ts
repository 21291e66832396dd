import { defineErrorCatalogue, type ErrorCatalogueEntry, type KefuError, type KefuErrorOptions } from '@kefu/core';

/**
 * The error catalogue of @kefu/wechat-mp. Every platform `errcode` listed in API-NOTES
 * is one `WECHAT_<code>` entry (`WECHAT_SYSTEM_BUSY` for -1, since a code must be
 * UPPER_SNAKE); other codes become `WECHAT_UNKNOWN_ERRCODE` with the code in `details`.
 */
export const wechatMpErrorCatalogue = {
  WECHAT_SYSTEM_BUSY: {
    description: 'errcode -1: the WeChat server is busy.',
    fix: 'Nothing to do: kefu retries with exponential back-off; raise `retry.maxAttempts` if it persists.',
    retryable: true,
  },
  WECHAT_40001: {
    description: 'errcode 40001: the access token is invalid (revoked by another refresh, or the secret is wrong).',
    fix: 'kefu refreshes the token and retries once; if it persists, check the app secret and that no other process refreshes `/cgi-bin/token` for this app id without a shared token store.',
    retryable: true,
  },
  WECHAT_40014: {
    description: 'errcode 40014: the access token is not the latest one.',
    fix: 'kefu refreshes the token and retries once; share one token store (`tokenStore: {type: "file"}` or your own) between processes.',
    retryable: true,
  },
  WECHAT_42001: {
    description: 'errcode 42001: the access token expired.',
    fix: 'kefu refreshes the token and retries once; check that the host clock is right.',
    retryable: true,
  },
  WECHAT_40013: {
    description: 'errcode 40013: the app id is invalid.',
    fix: "Check `accounts[].appId` in the config (the Official Account's AppID, starting with `wx`).",
  },
  WECHAT_40125: {
    description: 'errcode 40125: the app secret is invalid.',
    fix: 'Check `accounts[].secret` (reset it in the Official Account admin if needed).',
  },
  WECHAT_40164: {
    description: "errcode 40164: the calling IP address is not in the account's API IP whitelist.",
    fix: "Add this host's public IP to the IP whitelist in the Official Account admin.",
  },
  WECHAT_40003: {
    description: 'errcode 40003: the openid is invalid (not a follower of this account).',
    fix: 'Use an openid of a user of this Official Account.',
  },
  WECHAT_40005: {
    description: 'errcode 40005: the uploaded file type is not accepted.',
    fix: 'Upload a JPEG or PNG avatar.',
  },
  WECHAT_40066: {
    description: 'errcode 40066: the request URL or a parameter is invalid.',
    fix: 'Check the agent account and parameters named in the message.',
  },
  WECHAT_45008: {
    description: 'errcode 45008: too many articles in a news message.',
    fix: 'Send exactly one article in a `news` message.',
  },
  WECHAT_45009: {
    description: 'errcode 45009: the daily API quota is used up.',
    fix: 'The sync stopped cleanly with its checkpoint; run it again after the quota resets (midnight Beijing time) or clear the quota in the admin.',
  },
  WECHAT_45011: {
    description: 'errcode 45011: the per-minute API frequency limit was hit.',
    fix: 'Nothing to do: kefu waits until the next minute and retries.',
    retryable: true,
  },
  WECHAT_45015: {
    description:
      'errcode 45015: the customer last interacted more than 48 h ago; customer-service messages are refused.',
    fix: 'Wait until the customer writes again, or use a template / subscription message instead.',
  },
  WECHAT_45047: {
    description: "errcode 45047: too many messages were sent since the customer's last interaction.",
    fix: 'Wait until the customer writes again.',
  },
  WECHAT_45072: {
    description: 'errcode 45072: the typing command is invalid.',
    fix: 'Use `setTyping(openid, true | false)` (commands `Typing` / `CancelTyping`).',
  },
  WECHAT_45080: {
    description: 'errcode 45080: typing state needs a message exchange within the last 30 s.',
    fix: 'Only show typing right after the customer wrote.',
  },
  WECHAT_45081: {
    description: 'errcode 45081: the typing state is already set.',
    fix: 'Do not send `Typing` twice within 15 s.',
  },
  WECHAT_48001: {
    description: 'errcode 48001: the account is not authorized for this API.',
    fix: 'Enable customer service for the account (verified Official Account) and grant the API.',
  },
  WECHAT_65400: {
    description: 'errcode 65400: the new customer-service feature is not enabled for this account.',
    fix: 'Enable (upgrade to) the new customer service in the Official Account admin.',
  },
  WECHAT_65401: {
    description: 'errcode 65401: the agent account is invalid.',
    fix: 'Use an existing agent account `prefix@official_account_id` (see `listAgents()`).',
  },
  WECHAT_65402: {
    description: 'errcode 65402: the agent account is not bound to a WeChat user yet.',
    fix: 'Invite a WeChat user with `inviteAgent()` and wait for the invitation to be accepted.',
  },
  WECHAT_65403: {
    description: 'errcode 65403: the agent nickname is invalid.',
    fix: 'Use a nickname of at most 16 characters.',
  },
  WECHAT_65404: {
    description: 'errcode 65404: the agent account name is invalid.',
    fix: 'Use `prefix@official_account_id` with a prefix of at most 10 characters [A-Za-z0-9_].',
  },
  WECHAT_65405: {
    description: 'errcode 65405: the account already has the maximum number of agents (100).',
    fix: 'Delete unused agents first.',
  },
  WECHAT_65406: {
    description: 'errcode 65406: the agent account already exists.',
    fix: 'Use `updateAgent()` or choose another prefix.',
  },
  WECHAT_65407: {
    description: 'errcode 65407: the invited user is already an agent of this account.',
    fix: 'Nothing to invite; pick another WeChat user.',
  },
  WECHAT_65408: {
    description: 'errcode 65408: this account already has a pending invitation for that WeChat user.',
    fix: 'Wait for the user to accept or for the invitation to expire.',
  },
  WECHAT_65409: {
    description: 'errcode 65409: the WeChat id is invalid.',
    fix: "Use the invitee's WeChat id (not the nickname).",
  },
  WECHAT_65410: {
    description: 'errcode 65410: the invited user is bound to too many agent accounts (5).',
    fix: 'Invite another WeChat user.',
  },
  WECHAT_65411: {
    description: 'errcode 65411: the agent account already has a pending invitation.',
    fix: 'Wait for the invitation to be accepted or to expire.',
  },
  WECHAT_65412: {
    description: 'errcode 65412: the agent account is already bound to a WeChat user.',
    fix: 'Delete and recreate the agent to bind another user.',
  },
  WECHAT_65413: {
    description: 'errcode 65413: the customer has no session.',
    fix: 'Create a session first (`createSession`).',
  },
  WECHAT_65414: {
    description: 'errcode 65414: the customer is being served by another agent.',
    fix: 'Close the other session first, or leave the customer to that agent.',
  },
  WECHAT_65415: {
    description: 'errcode 65415: the agent is offline.',
    fix: 'The agent must be online (see `listOnlineAgents()`) to be given a session.',
  },
  WECHAT_65416: {
    description: 'errcode 65416: the record query parameters are invalid.',
    fix: 'This is a kefu bug if it comes from `records()`: report it with the message.',
  },
  WECHAT_65417: {
    description: 'errcode 65417: the record query range is longer than allowed (24 h).',
    fix: 'This is a kefu bug if it comes from `records()` (it splits ranges into days): report it.',
  },
  WECHAT_40002: {
    description: 'errcode 40002: the grant type is invalid.',
    fix: 'This is a kefu bug (it always sends client_credential): report it.',
  },
  WECHAT_40008: {
    description: 'errcode 40008: the message type is invalid.',
    fix: 'Use one of the `msgtype`s of `WechatOutgoingMessage`.',
  },
  WECHAT_40009: {
    description: 'errcode 40009: the image is too large.',
    fix: 'Send an image of at most 5 MB (avatars) or within the media limits.',
  },
  WECHAT_41001: {
    description: 'errcode 41001: the access token is missing.',
    fix: 'This is a kefu bug if it comes from the client: report it.',
  },
  WECHAT_41002: {
    description: 'errcode 41002: the appid is missing from the token request.',
    fix: 'Set `accounts[].appId`.',
  },
  WECHAT_41004: {
    description: 'errcode 41004: the secret is missing from the token request.',
    fix: 'Set `accounts[].secret`.',
  },
  WECHAT_41005: {
    description: 'errcode 41005: the uploaded media is missing.',
    fix: 'Pass a non-empty image to `uploadAgentAvatar`.',
  },
  WECHAT_43002: {
    description: 'errcode 43002: the call requires POST.',
    fix: 'This is a kefu bug: report it with the call name.',
  },
  WECHAT_47001: {
    description: 'errcode 47001: the request body is malformed (JSON or a field).',
    fix: 'Check the fields named in the message (kefu validates most of them before sending).',
  },
  WECHAT_UNKNOWN_ERRCODE: {
    description: 'WeChat answered with an errcode kefu does not know.',
    fix: 'Look the code (in `details.errcode`) up in the WeChat global return codes and report it to kefu.',
  },
  WECHAT_BAD_RESPONSE: {
    description: 'A WeChat response does not have the documented shape.',
    fix: 'Usually a truncated body, retried automatically; if it persists the platform changed its format: report it.',
    retryable: true,
  },
  WECHAT_MSGID_MISSING: {
    description:
      'getmsglist answered a full page with `msgid` 0 or absent: the window has more records and no cursor to read them with.',
    fix: 'Nothing was skipped: the sync stopped at its last checkpoint. Run it again later (the platform may have recovered); if it persists, report the answer (request log, `rid`) to kefu and to WeChat.',
  },
  WECHAT_MSGID_NOT_ADVANCING: {
    description:
      'getmsglist answered a full page with the same `msgid` it was asked for: following it would read the same page forever, stopping would lose the rest of the window.',
    fix: 'Nothing was skipped: the sync stopped at its last checkpoint. Run it again later; if it persists, report the answer to kefu. With `pageSize` 1 an inclusive server repeats its one record: kefu asks for at least 2.',
  },
  WECHAT_MSGID_BACKWARDS: {
    description: 'getmsglist answered a `msgid` lower than the one it was asked for: the cursor went backwards.',
    fix: 'Nothing was skipped: the sync stopped at its last checkpoint. Run it again later; if it persists, report the answer to kefu.',
  },
  WECHAT_MSGID_UNUSABLE: {
    description:
      'getmsglist answered a `msgid` that is not an integer between 0 and 2^53 − 1, so it cannot be sent back exactly.',
    fix: 'Nothing was skipped: the sync stopped at its last checkpoint. Report the answer to kefu (ids beyond 2^53 need exact decimal handling).',
  },
  WECHAT_INVALID_REQUEST: {
    description: 'A call was given invalid input (rejected before anything was sent).',
    fix: 'Correct the field named in the message.',
  },
  WECHAT_CONFIG_INVALID: {
    description: 'The wechat-mp configuration is invalid.',
    fix: 'Correct the field named in the message (see the options table in the README).',
  },
  WECHAT_UNKNOWN_ACCOUNT: {
    description: 'The app id asked for is not configured in this provider.',
    fix: 'Use one of `provider.accounts()` or add the account to `accounts` in the config.',
  },
  WECHAT_AVATAR_TOO_LARGE: {
    description: 'An agent avatar is larger than 5 MB.',
    fix: 'Resize the image below 5 MB (640x640 JPEG is recommended).',
  },
  WECHAT_PUSH_INVALID: {
    description:
      'A push (server message or event, after decryption) lacks ToUserName, FromUserName, CreateTime or MsgType, or has a known field that is not one text value.',
    fix: 'Nothing to configure if it did not come from WeChat: answer 400. If WeChat sent it, report the field names in the message (the platform changed its format).',
  },
} as const satisfies Record<string, ErrorCatalogueEntry>;

/** A @kefu/wechat-mp error code. */
export type WechatMpErrorCode = keyof typeof wechatMpErrorCatalogue;

/** Creates a @kefu/wechat-mp error by code. */
export const wechatMpError = defineErrorCatalogue(wechatMpErrorCatalogue);

/** The errcodes meaning "this token is no good": refresh (compare-and-invalidate) and retry once. */
export const TOKEN_ERRCODES: ReadonlySet<number> = new Set([40001, 40014, 42001]);

/** Milliseconds until the next full minute of `now`, plus a small margin (45011 resets per minute). */
export function msUntilNextMinute(now: number): number {
  return 60_000 - (now % 60_000) + 50;
}

/** The request id WeChat appends to an errmsg (`… rid: 6543a1b2-0c1d2e3f-4a5b6c7d`), if there is one. */
export function requestIdOf(errmsg: string): string | undefined {
  return /\brid: ?([0-9a-zA-Z]+(?:-[0-9a-zA-Z]+)+)/.exec(errmsg)?.[1];
}

/** Turns a platform `{errcode, errmsg}` into the catalogue's typed error. */
export function platformError(
  errcode: number,
  errmsg: string,
  context: { call: string; appId: string; now: number },
): KefuError {
  // errmsg is kept whole: WeChat appends ` rid: <hex>-<hex>-<hex>`, which its support asks for.
  const message = `WeChat ${context.call} failed for ${context.appId}: errcode ${errcode} ${errmsg}`;
  const rid = requestIdOf(errmsg);
  const details: Record<string, unknown> = {
    errcode,
    errmsg,
    call: context.call,
    appId: context.appId,
    ...(rid ? { rid } : {}),
  };
  const options: KefuErrorOptions = { details };
  if (errcode === -1) return wechatMpError('WECHAT_SYSTEM_BUSY', message, options);
  if (errcode === 45011) {
    return wechatMpError('WECHAT_45011', message, { ...options, retryAfterMs: msUntilNextMinute(context.now) });
  }
  if (errcode === 45009) {
    // The pipeline reads `quotaExhausted` to stop this target cleanly and keep its checkpoint.
    return wechatMpError('WECHAT_45009', message, { details: { ...details, quotaExhausted: true } });
  }
  const code = `WECHAT_${errcode}`;
  if (code in wechatMpErrorCatalogue) return wechatMpError(code as WechatMpErrorCode, message, options);
  return wechatMpError('WECHAT_UNKNOWN_ERRCODE', message, options);
}
