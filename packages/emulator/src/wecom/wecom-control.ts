import { jsonBody } from '../control-api.js';
import { emulatorError } from '../errors.js';
import type { ControlTable } from '../platform-kit.js';
import type { WecomState } from './wecom-state.js';

/**
 * Control endpoints under `/__emulator/wecom/`: a customer writes (rung to the callback target
 * when one is set; the answer carries the callback's Token), the callback target (set after URL
 * verification) and the callbacks sent, what was sent, the ground truth of an account.
 */
export const wecomControl: ControlTable<WecomState> = {
  'POST customer-message': {
    handle: (state, request) => {
      const body = (jsonBody(request) ?? {}) as { openKfId?: unknown; text?: unknown };
      const openKfId = typeof body.openKfId === 'string' ? body.openKfId : (state.accounts[0] as string);
      if (!state.accounts.includes(openKfId)) {
        throw emulatorError('EMULATOR_OPTIONS_INVALID', `customer-message: ${openKfId} is not one of wecom.accounts`);
      }
      return state.customerWrites(openKfId, typeof body.text === 'string' ? body.text : '你好');
    },
  },
  // Callbacks (wecom-callback-sender.ts): the URL is verified before it is kept.
  'PUT callback-target': { handle: (state, request) => state.callbacks.setTarget(jsonBody(request)) },
  'DELETE callback-target': {
    handle: (state) => {
      state.callbacks.clearTarget();
      return { ok: true };
    },
  },
  'GET callbacks': { handle: (state) => ({ deliveries: state.callbacks.deliveries() }) },
  'GET sent': { handle: (state) => state.sent },
};
