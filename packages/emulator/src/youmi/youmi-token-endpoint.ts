import type { EmulatorRequest, EmulatorResponse } from '../platform.js';
import { type AccessTokenStore, signaturesMatch } from './youmi-auth.js';
import { headerValue } from './youmi-envelope.js';
import { tokenFormSchema, YOUMI_SCOPE } from './youmi-schemas.js';

/**
 * The v2 token call 获取商户TOKEN (platforms/youmi-api.md §1.1): `POST
 * https://sso.yunshouzhi.net/connect/token`, form-encoded `client_id`, `client_secret`,
 * `scope` (fixed `Ls.Qkl.PublicApi`) and `grant_type` (fixed `client_credentials`), all four
 * marked optional. The page's response example is `{}`: the answer here is the standard
 * OAuth2 one an IdentityServer-style `/connect/token` gives (inferred, §1.1), errors too
 * (`{error, error_description}` with HTTP 400).
 */

/** The token endpoint path (the documented host's path). */
export const YOUMI_TOKEN_PATH = '/connect/token';

/** What the token endpoint checks and issues. */
export interface TokenEndpointSettings {
  clientId: string;
  clientSecret: string;
  lifetimeSeconds: number;
  tokens: AccessTokenStore;
}

/** Answers a token request. */
export function answerTokenRequest(request: EmulatorRequest, settings: TokenEndpointSettings): EmulatorResponse {
  const oauthError = (status: number, error: string, description: string): EmulatorResponse => ({
    status,
    body: { error, error_description: description },
    exemptFromFaults: true,
  });
  if (request.method !== 'POST') return oauthError(405, 'invalid_request', 'use POST');
  const contentType = headerValue(request.headers['content-type']) ?? '';
  if (!contentType.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
    return oauthError(400, 'invalid_request', 'send the parameters form-encoded (application/x-www-form-urlencoded)');
  }
  const form = tokenFormSchema.parse(Object.fromEntries(new URLSearchParams(request.body.toString('utf8'))));
  // OAuth2 also allows the client credentials in an HTTP Basic header.
  let clientId = form.client_id;
  let clientSecret = form.client_secret;
  const basic = /^Basic\s+(\S+)$/i.exec(headerValue(request.headers.authorization) ?? '');
  if (basic?.[1]) {
    const [id, secret] = Buffer.from(basic[1], 'base64').toString('utf8').split(':');
    clientId = decodeURIComponent(id ?? '');
    clientSecret = decodeURIComponent(secret ?? '');
  }
  // Both are "固定值" (fixed values) but optional: absent is fine, another value is not.
  if (form.grant_type !== undefined && form.grant_type !== 'client_credentials') {
    return oauthError(400, 'unsupported_grant_type', 'grant_type must be client_credentials');
  }
  if (form.scope !== undefined && form.scope !== YOUMI_SCOPE) {
    return oauthError(400, 'invalid_scope', `scope must be ${YOUMI_SCOPE}`);
  }
  if (!clientId || !clientSecret) return oauthError(400, 'invalid_client', 'client_id and client_secret are required');
  if (clientId !== settings.clientId || !signaturesMatch(settings.clientSecret, clientSecret)) {
    return oauthError(400, 'invalid_client', 'unknown client_id or wrong client_secret');
  }
  return {
    status: 200,
    headers: { 'cache-control': 'no-store' },
    // Token endpoints get transport faults only when faults.pathPattern names them.
    exemptFromFaults: true,
    body: {
      access_token: settings.tokens.issue(settings.lifetimeSeconds),
      expires_in: settings.lifetimeSeconds,
      token_type: 'Bearer',
      scope: YOUMI_SCOPE,
    },
  };
}
