import type { ControlTable } from '../platform-kit.js';
import type { WecomState } from './wecom-state.js';

/**
 * Control endpoints under `/__emulator/wecom/`: a customer writes (and the callback token
 * WeCom would send with its kf_msg_or_event), what was sent, the ground truth of an account.
 */
export const wecomControl: ControlTable<WecomState> = {
  'POST customer-message': {
    handle: (state, request) => {
      const body = JSON.parse(request.body.toString('utf8') || '{}') as { openKfId?: string; text?: string };
      const openKfId = body.openKfId ?? (state.accounts[0] as string);
      const item = state.addCustomerMessage(openKfId, body.text ?? '你好');
      return { item, callbackToken: state.issueCallbackToken(openKfId) };
    },
  },
  'GET sent': { handle: (state) => state.sent },
};
