import type { ApiArea } from '../platform-kit.js';
import { validateBody } from './youmi-envelope.js';
import { registerCallbackRequestSchema, subscribeEventRequestSchema } from './youmi-schemas.js';
import { v2Post, type YoumiRoute, type YoumiState } from './youmi-state.js';

/** Callbacks: where the platform POSTs its events (youmi-events.ts delivers them). */
export const youmiCallbackApi: ApiArea<YoumiState, YoumiRoute> = (state) => ({
  '/v2/Public/registerCallbackUrl': v2Post(({ body }) => {
    const { url, type } = validateBody(registerCallbackRequestSchema, body);
    state.events.registerCallback(type ?? 100, url);
    return true;
  }),
  '/v2/Public/subscribeEvent': v2Post(({ body }) => {
    const { url, appId, messageTypes } = validateBody(subscribeEventRequestSchema, body);
    state.events.subscribe(url, appId, messageTypes);
    return true;
  }),
});
