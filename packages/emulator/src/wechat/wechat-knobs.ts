import { formatZodIssue } from '@kefu/core';
import { z } from 'zod';
import { emulatorError } from '../errors.js';
import { DEFAULT_RECORD_KNOBS, parseRecordKnobs, type WechatRecordKnobs } from './wechat-record-knobs.js';

/**
 * The WeChat platform's run-time knobs: where the docs are silent or disagree, one value per
 * legitimate reading, changeable while the emulator runs (`setKnobs`, `PUT
 * /__emulator/wechat/knobs`).
 */

/**
 * Which forms of `kfaccount/del` the platform takes. API-NOTES: the SDKs send `GET
 * ?kf_account=`, the current doc POST JSON `{kf_account}`. `both` (default) takes either; `get`
 * answers POST with 43001, `post` answers GET with 43002 "require POST method".
 */
export const DeleteAgentMethodsSchema = z.enum(['both', 'get', 'post']);
/** The forms of `kfaccount/del` taken. */
export type DeleteAgentMethods = z.infer<typeof DeleteAgentMethodsSchema>;

/** Every run-time knob of the WeChat platform. */
export interface WechatKnobs {
  /** How getmsglist reads its cursor (see wechat-record-knobs.ts). */
  records: WechatRecordKnobs;
  deleteAgent: DeleteAgentMethods;
}

/** The defaults: the documented shapes. */
export const DEFAULT_WECHAT_KNOBS: Readonly<WechatKnobs> = { records: DEFAULT_RECORD_KNOBS, deleteAgent: 'both' };

/** What `setKnobs` takes: any subset, records knobs one by one. */
export interface WechatKnobsInput {
  records?: Partial<WechatRecordKnobs>;
  deleteAgent?: DeleteAgentMethods;
}

const WechatKnobsInputSchema = z.strictObject({
  records: z.unknown().optional(),
  deleteAgent: DeleteAgentMethodsSchema.optional(),
});

/** `base` with the knobs of `input` replaced, validated (EMULATOR_OPTIONS_INVALID names a bad one). */
export function parseWechatKnobs(input: unknown, base: Readonly<WechatKnobs> = DEFAULT_WECHAT_KNOBS): WechatKnobs {
  const parsed = WechatKnobsInputSchema.safeParse(input ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw emulatorError(
      'EMULATOR_OPTIONS_INVALID',
      `wechat knobs: ${formatZodIssue(issue)} (knobs are records.* and deleteAgent)`,
    );
  }
  return {
    records: parseRecordKnobs(parsed.data.records, base.records),
    deleteAgent: parsed.data.deleteAgent ?? base.deleteAgent,
  };
}
