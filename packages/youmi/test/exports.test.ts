import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readmeApiNames, runtimeExportNames } from '@kefu/testkit';
import { describe, expect, it } from 'vitest';

// The public surface is deliberate: adding or removing a runtime export changes these lists
// (and the README's API section) in the same review.

const MAIN_ENTRY = [
  'YOUMI_SIGNATURE_HEADER',
  'YOUMI_TIMESTAMP_HEADER',
  'YoumiCallbackReceiver',
  'YoumiClient',
  'YoumiConfigSchema',
  'YoumiProvider',
  'YoumiPushReceiver',
  'YoumiV1Client',
  'authenticateYoumiCallback',
  'default',
  'mergeWithoutDuplicates',
  'parseYoumiConfig',
  'plugin',
  'youmiCallbackSignature',
  'youmiErrorCatalogue',
];

describe('@kefu/youmi exports', () => {
  it('the main entry exports the provider, plugin, clients, config schema, errors and callback receivers', async () => {
    expect(runtimeExportNames(await import('@kefu/youmi'))).toEqual(MAIN_ENTRY);
  });

  it('the opt-in `/wire` subpath exports the wire schemas, the envelope reader, the chat parser and Beijing times', async () => {
    expect(runtimeExportNames(await import('@kefu/youmi/wire'))).toEqual([
      'FAN_KEY_FIELDS',
      'STAFF_CODE_FIELDS',
      'STAFF_NAME_FIELDS',
      'V1_CALLBACK_TYPE_NAMES',
      'V1_TOKEN_FIELDS',
      'YOUMI_CODE_MEANINGS',
      'YOUMI_PLATFORM',
      'YOUMI_TYPE_RULES',
      'YoumiChatListSchema',
      'YoumiChatSchema',
      'YoumiCountSchema',
      'YoumiDepartmentSchema',
      'YoumiEnvelopeSchema',
      'YoumiEventSchema',
      'YoumiEventTypeSchema',
      'YoumiIdSchema',
      'YoumiPositionSchema',
      'YoumiRawChatListSchema',
      'YoumiRowListSchema',
      'YoumiRowSchema',
      'YoumiTokenResponseSchema',
      'YoumiV1CallbackSchema',
      'YoumiV1TokenValuesSchema',
      'bracketValue',
      'chatRecordId',
      'decodeReserved',
      'firstText',
      'formatBeijingTime',
      'normalizeChat',
      'parseBeijingTime',
      'parseChat',
      'parseYoumiPosition',
      'readBeijingTime',
      'readEnvelope',
      'readEnvelopeText',
      'v1CallbackTypeName',
    ]);
  });

  it('the README lists the main entry, name for name', async () => {
    const readme = join(dirname(fileURLToPath(import.meta.url)), '../README.md');
    expect(await readmeApiNames(readme)).toEqual(MAIN_ENTRY);
  });
});
