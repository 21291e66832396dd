/**
 * @kefu/emulator: local WeChat MP and Youmi API servers with seeded data and fault
 * injection, for tests, demos and benchmarks.
 *
 * @example
 * ```ts
 * import { startEmulator } from '@kefu/emulator';
 * const emulator = await startEmulator({ seed: 'demo', faults: { latencyMs: 20 } });
 * console.log(emulator.wechat.baseUrl, emulator.wechat.accounts[0]);
 * await emulator.stop();
 * ```
 */
import { formatZodIssue } from '@kefu/core';
import { z } from 'zod';
import { type AdjustableClock, createClock } from './clock.js';
import { emulatorError } from './errors.js';
import { type FaultOptions, parseFaultOptions } from './faults.js';
import type { EmulatedPlatform } from './platform.js';
import { RequestLog } from './request-log.js';
import { startHttpServer } from './server.js';
import type { WechatEmulatorOptions } from './wechat/wechat-data.js';
import { createWechatPlatform, type WechatDescription } from './wechat/wechat-platform.js';
import { createWecomPlatform, type WecomDescription } from './wecom/wecom-platform.js';
import type { WecomEmulatorOptions } from './wecom/wecom-state.js';
import { createYoumiPlatformForEmulator, type YoumiDescription, type YoumiEmulatorOptions } from './youmi-wiring.js';

export type { AdjustableClock } from './clock.js';
export { CONTROL_PREFIX, type EmulatorControls } from './control-api.js';
export { type EmulatorErrorCode, emulatorError, emulatorErrorCatalogue } from './errors.js';
export type { FaultOptions } from './faults.js';
export {
  type EmulatorProviderConfigs,
  type KefuConfigYamlOptions,
  kefuConfigYaml,
  kefuProviderConfigs,
} from './kefu-config.js';
export type { EmulatedPlatform, EmulatorClock, EmulatorRequest, EmulatorResponse } from './platform.js';
export { RequestLog, type RequestLogEntry, type RequestLogFilter } from './request-log.js';
export type { WechatEmulatorOptions, WechatRawRecord } from './wechat/wechat-data.js';
export { WechatErrcode } from './wechat/wechat-errcodes.js';
export {
  DEFAULT_WECHAT_KNOBS,
  type DeleteAgentMethods,
  DeleteAgentMethodsSchema,
  type WechatKnobs,
  type WechatKnobsInput,
} from './wechat/wechat-knobs.js';
export { MSGID_BASE, MSGID_STRIDE } from './wechat/wechat-msgids.js';
export type { WechatDescription } from './wechat/wechat-platform.js';
export {
  DEFAULT_RECORD_KNOBS,
  describeRecordReading,
  type WechatRecordKnobs,
  WechatRecordKnobsSchema,
  wechatRecordReadings,
} from './wechat/wechat-record-knobs.js';
export type { WindowEntry } from './wechat/wechat-record-window.js';
export {
  type WecomCallbackAttempt,
  type WecomCallbackDelivery,
  type WecomCallbackTarget,
  type WecomCallbackTargetInput,
  WecomCallbackTargetSchema,
} from './wecom/wecom-callback-sender.js';
export type { WecomDescription } from './wecom/wecom-platform.js';
export {
  type WecomEmulatorOptions,
  WecomEmulatorOptionsSchema,
  type WecomItem,
  type WecomReadings,
  WecomReadingsSchema,
} from './wecom/wecom-state.js';
export type {
  ResolvedYoumiReadings,
  YoumiDeliveryAttempt,
  YoumiEmulatorDescription,
  YoumiEmulatorOptions,
  YoumiRawChat,
  YoumiRawFan,
  YoumiReadings,
} from './youmi/index.js';
export type { ExpectedChatsQuery, LateUploadInput } from './youmi/youmi-platform.js';
export { youmiRawChatSchema, youmiRawFanSchema } from './youmi/youmi-schemas.js';

/** Options of {@link startEmulator}; everything is optional. */
export interface EmulatorOptions {
  /** Address to listen on (default 127.0.0.1). */
  host?: string;
  /** Port (default 0: a random free port). */
  port?: number;
  /** All data is a pure function of the seed and a position (default 'kefu'). */
  seed?: string | number;
  /** Emulator clock start, ms since epoch (default Date.now()); it then runs in real time plus `clock.advance`. */
  now?: number;
  /** The clock moves only by `clock.advance` (default false: it runs in real time). */
  freezeClock?: boolean;
  /** WeChat MP platform options. */
  wechat?: WechatEmulatorOptions;
  /** Youmi platform options. */
  youmi?: YoumiEmulatorOptions;
  /** WeCom customer-service (微信客服) platform options. */
  wecom?: WecomEmulatorOptions;
  /** Fault injection knobs (all off by default). */
  faults?: FaultOptions;
}

/** A running emulator. */
export interface RunningEmulator {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** The WeChat MP platform: base URL, seeded accounts, the getmsglist ground truth and readings, token control. */
  wechat: WechatDescription;
  /** The Youmi platform: base and token URLs, credentials, ground truth (`expectedChats`, `fans`). */
  youmi: YoumiDescription;
  /** The WeCom customer-service platform: base URL, corp id and secret, accounts, ground truth, callback tokens. */
  wecom: WecomDescription;
  /** The emulator clock. */
  clock: { now(): number; advance(ms: number): void };
  /** Every request, with the fault applied to it. */
  requests: RequestLog;
  /** Replaces the fault knobs (and resets fault counters such as the daily quota). */
  setFaults(faults: FaultOptions): void;
  /** Closes the server, destroys open sockets, stops callback deliveries. */
  stop(): Promise<void>;
}

const count = (min: number, max: number) => z.number().int().min(min).max(max).optional();

/** Validates the emulator's own options (platform options are checked here too for the WeChat side). */
const EmulatorOptionsSchema = z.object({
  host: z.string().min(1).optional(),
  port: count(0, 65_535),
  seed: z.union([z.string(), z.number()]).optional(),
  now: z.number().int().nonnegative().optional(),
  freezeClock: z.boolean().optional(),
  wechat: z
    .strictObject({
      accounts: count(1, 100),
      agentsPerAccount: count(1, 100),
      customers: count(1, 1_000_000),
      days: count(1, 3650),
      recordsPerDay: count(0, 10_000_000),
      tokenExpiresInSeconds: count(1, 7200),
      tokenOverlapSeconds: count(0, 7200),
      inviteAcceptMs: count(0, 86_400_000),
      messagesPerInteraction: count(1, 1000),
      rawControlCharacters: z.boolean().optional(),
      indentedRecordBodies: z.boolean().optional(),
      uniformDays: z.boolean().optional(),
      liveRecordsPerSecond: count(1, 100_000),
      // Checked by parseRecordKnobs, which names the knob and its readings.
      records: z.unknown().optional(),
      deleteAgent: z.enum(['both', 'get', 'post']).optional(),
    })
    .optional(),
  youmi: z.unknown().optional(),
  // Checked by the WeCom platform's own schema, which names the option.
  wecom: z.unknown().optional(),
  faults: z.unknown().optional(),
});

/** Starts the emulator (every platform on one server). */
export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const parsed = EmulatorOptionsSchema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw emulatorError(
      'EMULATOR_OPTIONS_INVALID',
      `${formatZodIssue(issue, 'options')} (see the @kefu/emulator README for ranges)`,
    );
  }
  let faults = parseFaultOptions(options.faults);
  const seed = String(options.seed ?? 'kefu');
  const clock: AdjustableClock = createClock(options.now, options.freezeClock ?? false);
  const log = new RequestLog();
  const wechat = createWechatPlatform({ seed, wechat: options.wechat ?? {}, clock, faults: () => faults });
  const youmi = createYoumiPlatformForEmulator({
    seed,
    youmi: options.youmi ?? {},
    clock,
    faults: () => faults,
    log,
  });
  const wecom = createWecomPlatform({ seed, wecom: options.wecom, clock });
  const platforms: EmulatedPlatform[] = [wechat, youmi, wecom];
  const setFaults = (next: unknown): FaultOptions => {
    faults = parseFaultOptions(next);
    wechat.state.resetFaultCounters();
    return faults;
  };
  const server = await startHttpServer({
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    platforms,
    clock,
    log,
    faults: () => faults,
    controls: { log, clock, faults: () => faults, setFaults },
  });
  let stopped: Promise<void> | undefined;
  return {
    url: server.url,
    wechat: wechat.describe(server.url),
    youmi: youmi.describe(server.url),
    wecom: wecom.describe(server.url),
    clock: { now: () => clock.now(), advance: (ms) => clock.advance(ms) },
    requests: log,
    setFaults(next: FaultOptions) {
      setFaults(next);
    },
    stop() {
      stopped ??= server.close();
      return stopped;
    },
  };
}
