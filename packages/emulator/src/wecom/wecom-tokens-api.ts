import type { ApiArea } from '../platform-kit.js';
import { fail, ok, WECOM_PREFIX } from './wecom-answers.js';
import type { WecomRoute, WecomState } from './wecom-state.js';

/**
 * `GET /cgi-bin/gettoken?corpid&corpsecret` (doc 91039): `{access_token, expires_in: 7200}`;
 * 40013 for another corp, 40001 for a wrong secret. A8: the same token while valid, or a new
 * one each call (the old one invalid) with `readings.gettoken = 'new-each-call'`.
 */
export const wecomTokensApi: ApiArea<WecomState, WecomRoute> = (state) => ({
  [`${WECOM_PREFIX}/cgi-bin/gettoken`]: {
    access: 'public',
    handle: (request) => {
      const query = request.url.searchParams;
      if (query.get('corpid') !== state.corpId) return fail(40013, 'invalid corpid');
      if (query.get('corpsecret') !== state.secret) return fail(40001, 'invalid credential');
      if (state.readings.gettoken === 'new-each-call' || state.current === undefined) {
        if (state.current) state.validTokens.delete(state.current);
        state.current = `WECOM_ACCESS_TOKEN_${state.serial()}`;
        state.validTokens.add(state.current);
      }
      return ok({ access_token: state.current, expires_in: 7200 });
    },
  },
});
