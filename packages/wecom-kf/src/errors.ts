import { defineErrorCatalogue, type ErrorCatalogueEntry, type KefuError, type KefuErrorOptions } from '@kefu/core';

/**
 * The error catalogue of @kefu/wecom-kf. Every WeCom `errcode` the kf docs name
 * (wecom-kf.md §2.2 and §7) is one `WECOM_<code>` entry (`WECOM_SYSTEM_BUSY` for -1, since a
 * code must be UPPER_SNAKE); other codes become `WECOM_UNKNOWN_ERRCODE` with the code in
 * `details`.
 */
export const wecomKfErrorCatalogue = {
  WECOM_SYSTEM_BUSY: {
    description: 'errcode -1: the WeCom server is busy.',
    fix: 'Nothing to do: kefu retries with exponential back-off (WeCom advises at most 3 retries); raise `retry.maxAttempts` if it persists.',
    retryable: true,
  },
  WECOM_40001: {
    description: 'errcode 40001: the secret is invalid (wrong, reset, or the app is disabled).',
    fix: 'kefu refreshes the token once; if it persists, check `secret`: the secret of the self-built app configured in 「微信客服 - 可调用接口的应用」 (since 2023-12-01 new corps cannot use the 微信客服 system-app secret).',
  },
  WECOM_40013: {
    description: 'errcode 40013: the CorpID is invalid.',
    fix: 'Check `corpId` (我的企业 → 企业信息 → 企业ID, starting with `ww` or `wx`).',
  },
  WECOM_40014: {
    description: 'errcode 40014: the access token is invalid.',
    fix: 'kefu refreshes the token and retries once; if it persists, check that no other process uses a different token store for this app.',
  },
  WECOM_41001: {
    description: 'errcode 41001: the access_token parameter is missing.',
    fix: 'A kefu bug if it happens: report it with the call named in the message.',
  },
  WECOM_42001: {
    description: 'errcode 42001: the access token expired.',
    fix: 'kefu refreshes the token and retries once; check that the host clock is right.',
  },
  WECOM_40058: {
    description: 'errcode 40058: a parameter is invalid.',
    fix: 'Check the parameters named in the message against the WeCom kf docs.',
  },
  WECOM_40096: {
    description: 'errcode 40096: the external_userid is invalid.',
    fix: 'Pass `external_userid` exactly as sync_msg returned it (ids start with `wm`).',
  },
  WECOM_40201: {
    description: 'errcode 40201: the customer-service account is banned (sensitive content).',
    fix: 'Check the account in the WeCom admin (微信客服).',
  },
  WECOM_45009: {
    description:
      'errcode 45009: the API call limit was hit (also the likely answer of sync_msg called without a callback token, which has "strict" undocumented limits).',
    fix: 'The sync stopped cleanly with its cursor; run it again later. With `kefu serve` and a callback URL, pulls carry the callback token and are not limited this way.',
  },
  WECOM_45033: {
    description: 'errcode 45033: too many concurrent calls.',
    fix: 'Nothing to do: kefu backs off and retries; lower the number of processes calling the same app.',
    retryable: true,
  },
  WECOM_48002: {
    description: 'errcode 48002: the API is forbidden for this app.',
    fix: 'Configure the app in 「微信客服 - 可调用接口的应用」 and hand the kf account to it (通过API管理微信客服账号).',
  },
  WECOM_50100: {
    description: 'errcode 50100: the paging cursor is invalid (分页查询的游标无效, global error-code page 90313).',
    fix: 'Pass back only cursors WeCom returned; for a sync_msg cursor refused on resume, see WECOM_CURSOR_EXPIRED.',
  },
  WECOM_60020: {
    description: "errcode 60020: the calling IP address is not in the app's trusted IP list.",
    fix: "Add this host's public IP to 企业可信IP of the app in the WeCom admin.",
  },
  WECOM_95000: {
    description: 'errcode 95000: the open_kfid is invalid.',
    fix: 'Use an open_kfid from `kf/account/list` (it starts with `wk`).',
  },
  WECOM_95001: {
    description: 'errcode 95001: more than 5 messages were sent for one customer message.',
    fix: 'Wait until the customer writes again (at most 5 messages per customer message).',
  },
  WECOM_95002: {
    description: "errcode 95002: the customer's last message is more than 48 h old.",
    fix: 'Wait until the customer writes again.',
  },
  WECOM_95003: {
    description: 'errcode 95003: the corp has reached its limit of customers served (unverified corp).',
    fix: 'Verify the corp (企业认证) to raise the limit.',
  },
  WECOM_95004: {
    description: 'errcode 95004: the open_kfid does not exist (deleted, or of another corp).',
    fix: 'Check the open_kfid with `kf/account/list`.',
  },
  WECOM_95005: {
    description: 'errcode 95005: the corp has too many customer-service accounts.',
    fix: 'Delete unused accounts (at most 5000; 10 for unverified corps).',
  },
  WECOM_95006: {
    description: 'errcode 95006: the customer-service account name is invalid.',
    fix: 'Use a name of at most 16 characters.',
  },
  WECOM_95007: {
    description:
      'errcode 95007: the message token (the `Token` of the kf_msg_or_event callback) is invalid or expired (valid 10 minutes).',
    fix: 'Nothing to do: kefu drops the token and pulls without it; the next callback brings a new one.',
  },
  WECOM_95008: {
    description: 'errcode 95008: a menu message has too many items.',
    fix: 'Send at most 10 menu items.',
  },
  WECOM_95009: {
    description: 'errcode 95009: a menu item type is invalid.',
    fix: 'Use menu items of type click, view, miniprogram or text.',
  },
  WECOM_95011: {
    description: 'errcode 95011: the corp uses 微信客服 inside WeCom, but the token is of the standalone edition.',
    fix: 'Use the secret of the app configured in 「微信客服 - 可调用接口的应用」.',
  },
  WECOM_95012: {
    description: 'errcode 95012: the corp does not use 微信客服 inside WeCom (standalone edition secret expected).',
    fix: 'Use the secret that matches the edition of 微信客服 the corp uses.',
  },
  WECOM_95013: {
    description: 'errcode 95013: the session has ended.',
    fix: 'Wait until the customer writes again to open a new session.',
  },
  WECOM_95014: {
    description: 'errcode 95014: the user is not a servicer of this account (or not activated).',
    fix: 'Add the user with `kf/servicer/add` and make sure they use WeCom.',
  },
  WECOM_95015: {
    description: 'errcode 95015: the admin console configured exclusive service (专属服务) for this account.',
    fix: 'Change the reception settings in the WeCom admin.',
  },
  WECOM_95016: {
    description: 'errcode 95016: this session state change is not allowed.',
    fix: 'Read the state with `getServiceState` first; state 4 (ended) cannot be changed by the API.',
  },
  WECOM_95017: {
    description: 'errcode 95017: the API switch of the basic app permission is off.',
    fix: 'Turn on API access for 微信客服 in the WeCom admin.',
  },
  WECOM_95018: {
    description:
      'errcode 95018: the session state does not allow sending (not 0 untreated / 1 smart assistant, or over 48 h).',
    fix: 'Send only while the API owns the session (states 0/1); a servicer who took the session (state 3) answers from the WeCom client.',
  },
  WECOM_95019: {
    description: 'errcode 95019: the servicer stopped or paused reception.',
    fix: 'Pick a servicer who is on duty (`kf/servicer/list`, status 0).',
  },
  WECOM_95022: {
    description: 'errcode 95022: location_type is invalid.',
    fix: 'Check the location message fields.',
  },
  WECOM_95023: {
    description: 'errcode 95023: the API switch was handed to a 代开发 self-built app.',
    fix: 'Call with the secret of the app that owns the switch.',
  },
  WECOM_95026: {
    description: 'errcode 95026: the customer-service accounts are little used; no new one can be created now.',
    fix: 'Use an existing account.',
  },
  WECOM_95027: {
    description: 'errcode 95027: unverified corps may create only 10 customer-service accounts.',
    fix: 'Verify the corp (企业认证).',
  },
  WECOM_95030: {
    description: 'errcode 95030: the customer-service component forbids this message type.',
    fix: 'Send another message type.',
  },
  WECOM_95031: {
    description: 'errcode 95031: the customer has not written within 48 h.',
    fix: 'Wait until the customer writes again.',
  },
  WECOM_95032: {
    description: "errcode 95032: the component's permission to read chat records expired.",
    fix: 'Re-authorize the component in the WeCom admin.',
  },
  WECOM_UNKNOWN_ERRCODE: {
    description: 'WeCom answered an errcode this package does not know.',
    fix: 'Look the errcode (in `details`) up in the WeCom global error-code page (document 90313).',
  },
  WECOM_BAD_RESPONSE: {
    description: 'WeCom answered errcode 0 with a body that does not have the documented shape.',
    fix: 'Report it with the call and the issues named in the message: the platform changed its format.',
  },
  WECOM_INVALID_REQUEST: {
    description: 'A call was given a value the WeCom docs do not allow (length, range, missing field).',
    fix: 'Fix the value named in the message.',
  },
  WECOM_CONFIG_INVALID: {
    description: 'The @kefu/wecom-kf configuration is invalid.',
    fix: 'Fix the fields named in the message (see docs/providers/wecom-kf.md for the schema).',
  },
  WECOM_UNKNOWN_ACCOUNT: {
    description: 'A customer-service account (open_kfid) was named that this provider does not serve.',
    fix: 'Add it to `accounts` in the config, or name one of the configured open_kfids.',
  },
  WECOM_CHECKPOINT_INVALID: {
    description: 'The resume position is not a WeCom sync_msg cursor position.',
    fix: 'Delete the checkpoint of this target and sync again (the cursor restarts at the oldest message of the last 3 days).',
  },
  WECOM_CURSOR_EXPIRED: {
    description:
      "kf/sync_msg refused an account's saved cursor (errcode 50100): it was last read more than the 3 days sync_msg keeps, so its position no longer exists. The checkpoint was left as it was and every record already written stays.",
    fix: 'Delete the checkpoint of this target (key `<job>/<provider id>/<open_kfid>`, the target the summary names) and sync again: the cursor restarts at the oldest message of the last 3 days. Messages older than that cannot be read any more; run `kefu serve` or sync at least daily so a cursor never gets that old.',
  },
  WECOM_CALLBACK_INVALID: {
    description: 'A decrypted callback is not a WeCom kf_msg_or_event event (missing ToUserName, Event, OpenKfId…).',
    fix: 'Nothing to configure if it did not come from WeCom: it was answered 400. If WeCom sent it, report the field names in the message.',
  },
  WECOM_MEDIA_INVALID: {
    description: 'media/get answered something that is neither the file nor a WeCom error.',
    fix: 'Retry later; report it if it persists (media ids live 3 days).',
  },
} as const satisfies Record<string, ErrorCatalogueEntry>;

/** A @kefu/wecom-kf error code. */
export type WecomKfErrorCode = keyof typeof wecomKfErrorCatalogue;

/** Creates a @kefu/wecom-kf error by code. */
export const wecomKfError = defineErrorCatalogue(wecomKfErrorCatalogue);

/**
 * The errcodes meaning "this token is no good": invalidate it (compare-and-delete) and
 * retry once. 40001 is included as WxJava, wechatpy and EasyWeChat do (a reset secret shows
 * as 40001 on the next call with an old token); a second 40001 surfaces.
 */
export const TOKEN_ERRCODES: ReadonlySet<number> = new Set([40001, 40014, 42001]);

/** What a platform error is about, for its message. */
export interface ErrorContext {
  call: string;
  corpId: string;
}

/** Turns a platform `{errcode, errmsg}` into the catalogue's typed error. */
export function platformError(errcode: number, errmsg: string, context: ErrorContext): KefuError {
  // errmsg is kept whole: WeCom appends a hint URL and a request id its support asks for.
  const message = `WeCom ${context.call} failed for ${context.corpId}: errcode ${errcode} ${errmsg}`;
  const details: Record<string, unknown> = { errcode, errmsg, call: context.call, corpId: context.corpId };
  const options: KefuErrorOptions = { details };
  if (errcode === -1) return wecomKfError('WECOM_SYSTEM_BUSY', message, options);
  if (errcode === 45009) {
    // The pipeline reads `quotaExhausted` to stop this target cleanly and keep its checkpoint.
    return wecomKfError('WECOM_45009', message, { details: { ...details, quotaExhausted: true } });
  }
  const code = `WECOM_${errcode}`;
  if (code in wecomKfErrorCatalogue) return wecomKfError(code as WecomKfErrorCode, message, options);
  return wecomKfError('WECOM_UNKNOWN_ERRCODE', message, options);
}
