import { faultRoll, faultsApplyTo } from '../faults.js';
import type { EmulatorRequest, EmulatorResponse } from '../platform.js';
import { fail } from './wechat-answers.js';
import { WechatErrcode } from './wechat-errcodes.js';
import { WECHAT_RECORD_PATHS } from './wechat-records-api.js';
import type { WechatState } from './wechat-state.js';

/**
 * WeChat's platform-level faults, answered in WeChat's own shape by the gate before an
 * authenticated route runs: token revocation every N calls (40001), system busy (-1), the
 * per-minute quota (45011) and the daily record quota (45009). Transport faults are the
 * server's fault layer (transport-faults.ts), not this.
 */
export function wechatPlatformFault(
  state: WechatState,
  request: EmulatorRequest,
  token: string,
  now: number,
): EmulatorResponse | undefined {
  const path = request.url.pathname;
  const faults = state.faults();
  if (!faultsApplyTo(faults, path, false)) return undefined;
  const sequence = request.sequence ?? 0;
  const counters = state.faultCounters;
  counters.authenticatedCalls++;
  if (faults.revokeTokenEveryCalls && counters.authenticatedCalls % faults.revokeTokenEveryCalls === 0) {
    state.tokens.revoke(token, now);
    return { ...fail(WechatErrcode.invalidCredential), fault: 'revoked' };
  }
  if (faults.wechatBusyRate && faultRoll(faults, sequence, 'busy') < faults.wechatBusyRate) {
    return { ...fail(WechatErrcode.busy), fault: 'busy' };
  }
  if (faults.wechatMinuteQuotaRate && faultRoll(faults, sequence, 'minute') < faults.wechatMinuteQuotaRate) {
    return { ...fail(WechatErrcode.minuteQuota), fault: 'minute-quota' };
  }
  if (WECHAT_RECORD_PATHS.has(path)) {
    counters.recordCalls++;
    const after = faults.wechatDailyQuotaAfterCalls;
    if (after !== undefined && counters.recordCalls > after)
      return { ...fail(WechatErrcode.dailyQuota), fault: 'daily-quota' };
  }
  return undefined;
}
