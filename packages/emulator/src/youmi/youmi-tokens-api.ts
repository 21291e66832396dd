import type { ApiArea } from '../platform-kit.js';
import type { YoumiRoute, YoumiState } from './youmi-state.js';
import { answerTokenRequest, YOUMI_TOKEN_PATH } from './youmi-token-endpoint.js';
import { answerV1Token, YOUMI_V1_TOKEN_PATH } from './youmi-v1-api.js';

/**
 * Tokens: the v2 OAuth2 call `POST /connect/token` (youmi-token-endpoint.ts) and the v1 signed
 * call `POST /publicapi/v1/GetAccessToken` (youmi-v1-api.ts). Both answer exempt from faults.
 */
export const youmiTokenApi: ApiArea<YoumiState, YoumiRoute> = (state) => ({
  [YOUMI_TOKEN_PATH]: {
    api: 'token',
    handle: (request) => {
      const { clientId, clientSecret, tokenLifetimeSeconds } = state.settings;
      return answerTokenRequest(request, {
        clientId,
        clientSecret,
        lifetimeSeconds: tokenLifetimeSeconds,
        tokens: state.v2Tokens,
      });
    },
  },
  [YOUMI_V1_TOKEN_PATH]: { api: 'token', handle: (request) => answerV1Token(request, state.v1Api()) },
});
