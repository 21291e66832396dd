import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readmeApiNames, runtimeExportNames } from '@kefu/testkit';
import { describe, expect, it } from 'vitest';

// The public surface is deliberate: adding or removing a runtime export changes these lists
// (and the README's API section) in the same review.

const MAIN_ENTRY = [
  'FileTokenStore',
  'MemoryTokenStore',
  'TokenManager',
  'WechatMpClient',
  'WechatMpConfigSchema',
  'WechatMpProvider',
  'WechatPushReceiver',
  'default',
  'downloadWechatMedia',
  'normalizePush',
  'parseWechatMpConfig',
  'plugin',
  'pushDedupeKey',
  'readPushXml',
  'wechatMpErrorCatalogue',
];

describe('@kefu/wechat-mp exports', () => {
  it('the main entry exports the provider, plugin, client, config schema, errors, token stores and push helpers', async () => {
    expect(runtimeExportNames(await import('@kefu/wechat-mp'))).toEqual(MAIN_ENTRY);
  });

  it('the opt-in `/wire` subpath exports the wire schemas, parsers and record identities', async () => {
    expect(runtimeExportNames(await import('@kefu/wechat-mp/wire'))).toEqual([
      'AccessTokenResponseSchema',
      'DayWindowSplitter',
      'ErrorEnvelopeSchema',
      'GetRecordRequestSchema',
      'GetRecordResponseSchema',
      'KfAccountNameSchema',
      'KfAccountSchema',
      'KfAccountWriteRequestSchema',
      'KfInviteRequestSchema',
      'KfListResponseSchema',
      'KfNicknameSchema',
      'KfOnlineListResponseSchema',
      'KfOnlineSchema',
      'KfSessionListResponseSchema',
      'KfSessionRequestSchema',
      'KfSessionResponseSchema',
      'KfWaitCaseResponseSchema',
      'MsgListPositionSchema',
      'MsgListRequestSchema',
      'MsgListResponseSchema',
      'OPERCODES',
      'OccurrenceCounter',
      'OpenIdSchema',
      'PageIndexPositionSchema',
      'RawRecordSchema',
      'SendMessageRequestSchema',
      'TypingRequestSchema',
      'WechatOutgoingMessageSchema',
      'WechatPositionSchema',
      'WechatPushSchema',
      'isCanonicalRawRecord',
      'normalizeRecord',
      'parseMsgListPosition',
      'parsePlatformJson',
      'parsePush',
      'pushRecordId',
      'recordId',
      'recordIdentity',
      'repairPlatformJson',
    ]);
  });

  it('the README lists the main entry, name for name', async () => {
    const readme = join(dirname(fileURLToPath(import.meta.url)), '../README.md');
    expect(await readmeApiNames(readme)).toEqual(MAIN_ENTRY);
  });
});
