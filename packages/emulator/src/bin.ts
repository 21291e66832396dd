#!/usr/bin/env node
/**
 * `kefu-emulator`: starts the emulator, prints its URL and (fake) credentials, and runs
 * until SIGINT/SIGTERM. Printing secrets is intended: they are the emulator's own.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { isKefuError } from '@kefu/core/errors';
import { emulatorError } from './errors.js';
import type { FaultOptions } from './faults.js';
import { type EmulatorOptions, type RunningEmulator, startEmulator } from './index.js';
import { kefuConfigYaml } from './kefu-config.js';
import type { WechatEmulatorOptions } from './wechat/wechat-data.js';
import type { WecomEmulatorOptions } from './wecom/wecom-state.js';
import type { YoumiEmulatorOptions } from './youmi/index.js';

/** `object` without its undefined entries: an option left out keeps the platform's default. */
function defined<T extends object>(object: T): T {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined)) as T;
}

// ---- Youmi flags (a block of their own; the readings are validated by the Youmi platform) ----
const YOUMI_USAGE = `Youmi:
  --youmi-wechat-ids N             operating accounts (default 2)
  --youmi-fans N                   fans per account (default 50)
  --youmi-chats-per-fan N          average chats per fan (default 40)
  --youmi-days N                   days of Youmi history (default 30)
  --youmi-token-lifetime S         v2 bearer token lifetime in seconds (default 7200)
  --youmi-late-uploads N           late uploads per account (old time, new id; default 0)
  --youmi-late-upload-window-ms N  they arrive within N ms after the start (default 3600000)
  --youmi-chat-ids time|fan        ids in time order per account, or per fan only (default time)
  --youmi-chat-order id|time|time-desc        GetChat row order (default id)
  --youmi-min-chatting-id exclusive|inclusive (default exclusive)
  --youmi-start-bound inclusive|exclusive     startTimestamp reading (default inclusive)
  --youmi-end-bound inclusive|exclusive       endTimestamp reading (default inclusive)
  --youmi-time-format space|iso|iso7|fraction7|slash (default space)
  --youmi-resvred-encoding percent|form       space as %20 or + (default percent)
  --youmi-v2-token-rejection errmsg|http401   (default errmsg: 10003)
  --youmi-v1-expires-in epoch|seconds         (default epoch)
  --youmi-fans-list-shape relation|camel      GetFansList rows (default relation)`;

const YOUMI_FLAGS = {
  'youmi-wechat-ids': { type: 'string' },
  'youmi-fans': { type: 'string' },
  'youmi-chats-per-fan': { type: 'string' },
  'youmi-days': { type: 'string' },
  'youmi-token-lifetime': { type: 'string' },
  'youmi-late-uploads': { type: 'string' },
  'youmi-late-upload-window-ms': { type: 'string' },
  'youmi-chat-ids': { type: 'string' },
  'youmi-chat-order': { type: 'string' },
  'youmi-min-chatting-id': { type: 'string' },
  'youmi-start-bound': { type: 'string' },
  'youmi-end-bound': { type: 'string' },
  'youmi-time-format': { type: 'string' },
  'youmi-resvred-encoding': { type: 'string' },
  'youmi-v2-token-rejection': { type: 'string' },
  'youmi-v1-expires-in': { type: 'string' },
  'youmi-fans-list-shape': { type: 'string' },
} as const;

/** The Youmi options of the command line; readings pass as given and are checked by the platform. */
function youmiOptionsFromArgs(
  values: Record<string, string | boolean | undefined>,
  number: (name: keyof typeof YOUMI_FLAGS) => number | undefined,
): YoumiEmulatorOptions {
  const text = (name: keyof typeof YOUMI_FLAGS) => values[name] as string | undefined;
  const options: Record<string, unknown> = {
    wechatIds: number('youmi-wechat-ids'),
    fansPerAccount: number('youmi-fans'),
    chatsPerFan: number('youmi-chats-per-fan'),
    days: number('youmi-days'),
    tokenLifetimeSeconds: number('youmi-token-lifetime'),
    lateUploads: number('youmi-late-uploads'),
    lateUploadWindowMs: number('youmi-late-upload-window-ms'),
    chatIds: text('youmi-chat-ids'),
    chatOrder: text('youmi-chat-order'),
    minChattingId: text('youmi-min-chatting-id'),
    startBound: text('youmi-start-bound'),
    endBound: text('youmi-end-bound'),
    timeFormat: text('youmi-time-format'),
    resvredEncoding: text('youmi-resvred-encoding'),
    v2TokenRejection: text('youmi-v2-token-rejection'),
    v1ExpiresIn: text('youmi-v1-expires-in'),
    fansListShape: text('youmi-fans-list-shape'),
  };
  return defined(options) as YoumiEmulatorOptions;
}
// ---- end of the Youmi flags ----

// ---- WeCom kf flags (the readings are validated by the WeCom platform) ----
const WECOM_USAGE = `WeCom kf (sync_msg readings: docs/providers/wecom-kf.md, open points):
  --wecom-accounts N               customer-service accounts (default 2)
  --wecom-messages N               seeded messages per account (default 40)
  --wecom-hours N                  spread over the last N hours (default 48, at most 72)
  --wecom-cursor-scope per-account|per-app    (A1, default per-account)
  --wecom-token-reuse any|first-page-only|own-account-only  callback token (A2, default any)
  --wecom-tokenless-calls N        token-less sync_msg calls before 45009 (A3, default no limit)
  --wecom-gettoken same-while-valid|new-each-call  (A8, default same-while-valid)
  --wecom-order send-time|reversed-pages      msg_list order (A9, default send-time)
  --wecom-empty-pages              empty pages with has_more = 1 first
  --wecom-fewer-than-limit         pages of half the limit
  --wecom-expired-cursor reject|oldest        a cursor older than 3 days (default reject: 50100)`;

const WECOM_FLAGS = {
  'wecom-accounts': { type: 'string' },
  'wecom-messages': { type: 'string' },
  'wecom-hours': { type: 'string' },
  'wecom-cursor-scope': { type: 'string' },
  'wecom-token-reuse': { type: 'string' },
  'wecom-tokenless-calls': { type: 'string' },
  'wecom-gettoken': { type: 'string' },
  'wecom-order': { type: 'string' },
  'wecom-empty-pages': { type: 'boolean' },
  'wecom-fewer-than-limit': { type: 'boolean' },
  'wecom-expired-cursor': { type: 'string' },
} as const;

/** The WeCom options of the command line; readings pass as given and are checked by the platform. */
function wecomOptionsFromArgs(
  values: Record<string, string | boolean | undefined>,
  number: (name: keyof typeof WECOM_FLAGS) => number | undefined,
): WecomEmulatorOptions {
  const readings = defined({
    cursorScope: values['wecom-cursor-scope'],
    tokenReuse: values['wecom-token-reuse'],
    tokenlessCalls: number('wecom-tokenless-calls'),
    gettoken: values['wecom-gettoken'],
    order: values['wecom-order'],
    emptyPages: values['wecom-empty-pages'],
    fewerThanLimit: values['wecom-fewer-than-limit'],
    expiredCursor: values['wecom-expired-cursor'],
  });
  return defined({
    accounts: number('wecom-accounts'),
    messagesPerAccount: number('wecom-messages'),
    hours: number('wecom-hours'),
    readings: Object.keys(readings).length > 0 ? readings : undefined,
  }) as WecomEmulatorOptions;
}
// ---- end of the WeCom kf flags ----

const USAGE = `Usage: kefu-emulator [options]
  --host H                 listen address (default 127.0.0.1)
  --port N                 port (default 0 = random)
  --seed S                 data seed (default kefu)
  --now ISO                emulator clock start (default: now)
  --freeze-clock           the clock moves only by POST /__emulator/clock/advance
  --accounts N             WeChat accounts (default 2)
  --agents N               seeded agents per WeChat account (default 5)
  --customers N            customers per WeChat account (default 200)
  --days N                 days of history (default 30)
  --records-per-day N      average WeChat records per day and account (default 200)
  --uniform-days           every day has exactly --records-per-day records
  --token-expires-in S     WeChat token lifetime in seconds (default 7200)
  --token-overlap-seconds S  a superseded /cgi-bin/token token works this long (default 300)
  --invite-accept-ms N     an invited WeChat user accepts after N ms of emulator time (default 1000)
  --messages-per-interaction N  messages per customer message before 45047 (default 5)
  --live-records-per-second N   run-time records per account and second (default 1000)
  --raw-control-characters send control characters in WeChat record texts unescaped
  --indented-record-bodies write WeChat record answers indented (whitespace between tokens)
  getmsglist readings (docs silent; defaults = the documented shape):
  --msgid-model M          global-id | position
  --continuation C         inclusive | exclusive (request msgid as a lower bound)
  --response-msgid R       last | next (answered msgid: the page's last id, or + 1)
  --endtime E              exclusive | inclusive (a record at exactly endtime)
  --number-field F         returned | requested (the answer's number)
  --cursor-fault F         none | stall | missing | backwards (impossible cursors on full pages)
  --visibility-lag-seconds S    records are listed S seconds after their time (default 0)
  --delete-agent D         both | get | post: forms of kfaccount/del taken (default both)
  --latency-ms N           fixed latency per API call
  --jitter-ms N            extra random latency in [0, N)
  --server-error-rate R    share of HTTP 502/503 answers (0..1)
  --reset-rate R           share of connection resets
  --malformed-rate R       share of invalid JSON bodies
  --truncated-rate R       share of truncated bodies
  --slow-body-rate R       share of slow bodies (--slow-body-ms, default 1000)
  --busy-rate R            share of WeChat errcode -1
  --minute-quota-rate R    share of WeChat errcode 45011
  --daily-quota-after N    WeChat 45009 after N record calls
  --revoke-every N         revoke the access token every N authenticated calls
  --fault-paths REGEX      apply faults only to matching paths
  --fault-seed N           seed of the fault dice
  --json                   print one JSON line instead of text
  --print-config           print a ready kefu YAML config for the emulator's accounts
                           (ends with a "..." line) instead of the banner
  --help                   this text
${YOUMI_USAGE}
${WECOM_USAGE}`;

const FLAGS = {
  host: { type: 'string' },
  port: { type: 'string' },
  seed: { type: 'string' },
  now: { type: 'string' },
  'freeze-clock': { type: 'boolean' },
  accounts: { type: 'string' },
  agents: { type: 'string' },
  customers: { type: 'string' },
  days: { type: 'string' },
  'records-per-day': { type: 'string' },
  'uniform-days': { type: 'boolean' },
  'token-expires-in': { type: 'string' },
  'token-overlap-seconds': { type: 'string' },
  'invite-accept-ms': { type: 'string' },
  'messages-per-interaction': { type: 'string' },
  'live-records-per-second': { type: 'string' },
  'msgid-model': { type: 'string' },
  continuation: { type: 'string' },
  'response-msgid': { type: 'string' },
  endtime: { type: 'string' },
  'number-field': { type: 'string' },
  'cursor-fault': { type: 'string' },
  'visibility-lag-seconds': { type: 'string' },
  'delete-agent': { type: 'string' },
  'latency-ms': { type: 'string' },
  'jitter-ms': { type: 'string' },
  'server-error-rate': { type: 'string' },
  'reset-rate': { type: 'string' },
  'malformed-rate': { type: 'string' },
  'truncated-rate': { type: 'string' },
  'slow-body-rate': { type: 'string' },
  'slow-body-ms': { type: 'string' },
  'busy-rate': { type: 'string' },
  'minute-quota-rate': { type: 'string' },
  'daily-quota-after': { type: 'string' },
  'revoke-every': { type: 'string' },
  'fault-paths': { type: 'string' },
  'fault-seed': { type: 'string' },
  'raw-control-characters': { type: 'boolean' },
  'indented-record-bodies': { type: 'boolean' },
  json: { type: 'boolean' },
  'print-config': { type: 'boolean' },
  help: { type: 'boolean' },
  ...YOUMI_FLAGS,
  ...WECOM_FLAGS,
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof FLAGS }>>['values'];

/** What the command does besides starting the emulator. */
interface CommandFlags {
  json: boolean;
  printConfig: boolean;
  help: boolean;
}

/** Turns command-line flags into emulator options (exported for tests). */
export function optionsFromArgs(args: string[]): EmulatorOptions & CommandFlags {
  let values: Values;
  try {
    values = parseArgs({ args, options: FLAGS, strict: true, allowPositionals: false }).values;
  } catch (cause) {
    throw emulatorError('EMULATOR_OPTIONS_INVALID', `${(cause as Error).message}\n${USAGE}`, { cause });
  }
  const number = (name: keyof Values): number | undefined => {
    const raw = values[name];
    if (raw === undefined || typeof raw === 'boolean') return undefined;
    const parsed = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(parsed)) {
      throw emulatorError('EMULATOR_OPTIONS_INVALID', `--${name} needs a number, got "${raw}"`);
    }
    return parsed;
  };
  let now: number | undefined;
  if (values.now !== undefined) {
    now = Date.parse(values.now);
    if (Number.isNaN(now))
      throw emulatorError('EMULATOR_OPTIONS_INVALID', `--now needs an ISO date, got "${values.now}"`);
  }
  const faults: FaultOptions = defined({
    latencyMs: number('latency-ms'),
    jitterMs: number('jitter-ms'),
    serverErrorRate: number('server-error-rate'),
    connectionResetRate: number('reset-rate'),
    malformedBodyRate: number('malformed-rate'),
    truncatedBodyRate: number('truncated-rate'),
    slowBodyRate: number('slow-body-rate'),
    slowBodyMs: number('slow-body-ms'),
    wechatBusyRate: number('busy-rate'),
    wechatMinuteQuotaRate: number('minute-quota-rate'),
    wechatDailyQuotaAfterCalls: number('daily-quota-after'),
    revokeTokenEveryCalls: number('revoke-every'),
    pathPattern: values['fault-paths'],
    seed: number('fault-seed'),
  });
  const records = defined({
    msgidModel: values['msgid-model'],
    continuation: values.continuation,
    responseMsgid: values['response-msgid'],
    endtime: values.endtime,
    number: values['number-field'],
    cursorFault: values['cursor-fault'],
    visibilityLagSeconds: number('visibility-lag-seconds'),
  }) as WechatEmulatorOptions['records'];
  return defined({
    host: values.host,
    port: number('port'),
    seed: values.seed,
    now,
    freezeClock: values['freeze-clock'],
    wechat: defined({
      accounts: number('accounts'),
      agentsPerAccount: number('agents'),
      customers: number('customers'),
      days: number('days'),
      recordsPerDay: number('records-per-day'),
      uniformDays: values['uniform-days'],
      tokenExpiresInSeconds: number('token-expires-in'),
      tokenOverlapSeconds: number('token-overlap-seconds'),
      inviteAcceptMs: number('invite-accept-ms'),
      messagesPerInteraction: number('messages-per-interaction'),
      liveRecordsPerSecond: number('live-records-per-second'),
      rawControlCharacters: values['raw-control-characters'],
      indentedRecordBodies: values['indented-record-bodies'],
      records: Object.keys(records ?? {}).length > 0 ? records : undefined,
      deleteAgent: values['delete-agent'] as WechatEmulatorOptions['deleteAgent'],
    }),
    youmi: youmiOptionsFromArgs(values, number),
    wecom: wecomOptionsFromArgs(values, number),
    faults,
    json: values.json === true,
    printConfig: values['print-config'] === true,
    help: values.help === true,
  });
}

/** The text printed at start-up: URL and credentials of every platform. */
export function describeEmulator(emulator: RunningEmulator): string {
  const lines = [`kefu-emulator listening on ${emulator.url}`, '', `WeChat MP   base URL ${emulator.wechat.baseUrl}`];
  for (const account of emulator.wechat.accounts) {
    lines.push(`  ${account.name}: appid=${account.appId} secret=${account.secret}`);
  }
  const y = emulator.youmi;
  const w = emulator.wecom;
  lines.push(
    '',
    `Youmi       base URL ${y.baseUrl}  token URL ${y.tokenUrl}`,
    `  client_id=${y.clientId} client_secret=${y.clientSecret} tenantId=${y.tenantId} merchantId=${y.merchantId}`,
    `  wechatIds=${y.wechatIds.join(',')}  v1 appId=${y.v1.appId} appKey=${y.v1.appKey}`,
    `  v1 token URL ${y.v1.tokenUrl}  v1 base URL ${y.v1.baseUrl}`,
    `  readings ${Object.entries(y.readings())
      .map(([name, value]) => `${name}=${value}`)
      .join(' ')}`,
    '',
    `WeCom kf    base URL ${w.baseUrl}`,
    `  corpid=${w.corpId} secret=${w.secret} open_kfids=${w.accounts.join(',')}`,
    `  callback token=${w.callback.token} encodingAesKey=${w.callback.encodingAesKey}`,
    `  ring kefu serve: PUT ${emulator.url}/__emulator/wecom/callback-target {"url": "http://<serve>/wecom-kf/${w.corpId}"}`,
    '',
    'Press Ctrl+C to stop.',
  );
  return lines.join('\n');
}

async function main(): Promise<void> {
  const { json, printConfig, help, ...options } = optionsFromArgs(process.argv.slice(2));
  if (help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const emulator = await startEmulator(options);
  if (printConfig) {
    process.stdout.write(kefuConfigYaml(emulator));
  } else if (json) {
    const { wechat, youmi } = emulator;
    process.stdout.write(
      `${JSON.stringify({ url: emulator.url, pid: process.pid, wechat: { baseUrl: wechat.baseUrl, accounts: wechat.accounts }, youmi: { baseUrl: youmi.baseUrl, tokenUrl: youmi.tokenUrl, scope: youmi.scope, clientId: youmi.clientId, clientSecret: youmi.clientSecret, tenantId: youmi.tenantId, merchantId: youmi.merchantId, wechatIds: youmi.wechatIds, v1: youmi.v1, readings: youmi.readings() }, wecom: { baseUrl: emulator.wecom.baseUrl, corpId: emulator.wecom.corpId, secret: emulator.wecom.secret, accounts: emulator.wecom.accounts, callback: emulator.wecom.callback } })}\n`,
    );
  } else process.stdout.write(`${describeEmulator(emulator)}\n`);
  const shutdown = () => {
    emulator.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

/** True when this file is the process entry point (also through the node_modules/.bin symlink). */
function isEntryPoint(): boolean {
  const invoked = process.argv[1];
  if (!invoked) return false;
  try {
    return realpathSync(invoked) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  main().catch((error: unknown) => {
    process.stderr.write(`kefu-emulator: ${isKefuError(error) ? `${error.code}: ${error.message}` : String(error)}\n`);
    process.exit(2);
  });
}
