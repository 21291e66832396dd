import { describe, expect, it } from 'vitest';
import { YoumiCallbackReceiver } from '../src/callback-receiver.js';
import { YoumiEnvelopeSchema } from '../src/youmi-envelope.js';
import {
  YoumiChatListSchema,
  YoumiDepartmentSchema,
  YoumiTokenResponseSchema,
  YoumiV1TokenValuesSchema,
} from '../src/youmi-schemas.js';

// The example bodies of the docs (platforms/youmi-api.md, seed 002), verbatim, as fixtures.

describe('the docs example bodies parse', () => {
  it('given the GetDepartList answer example (§2.3), then the envelope and the departments parse', () => {
    const example = {
      requestId: 'string',
      errmsg: 0,
      succeed: true,
      values: [{ departid: 0, departname: 'string' }],
      errdesc: null,
    };
    const envelope = YoumiEnvelopeSchema.parse(example);
    expect(envelope.succeed).toBe(true);
    expect(YoumiDepartmentSchema.array().parse(envelope.values)).toEqual([{ departid: 0, departname: 'string' }]);
  });

  it('given the GetChat answer example (seed 002), then the envelope and its 17 fields parse', () => {
    const example = {
      requestId: null,
      errmsg: 0,
      succeed: true,
      msgTime: 'string',
      values: [
        {
          ad_chatting_id: 0,
          ad_chatting_talter: 'string',
          ad_chatting_issend: 0,
          ad_chatting_resvred: 'string',
          ad_wechat_id: 0,
          merchantid: 'string',
          ad_chatting_updatetime: 'string',
          ad_chatting_sate: 0,
          ad_sermsgid: 'string',
          ad_chatting_time: 'string',
          ad_chatting_content: 'string',
          ad_staff_code: 'string',
          ad_voice_txt: null,
          ad_friend_photo: 'string',
          ad_friend_name: 'string',
          ad_expand: 'string',
          ad_wechat_nober: 'string',
        },
      ],
      errdesc: null,
    };
    const envelope = YoumiEnvelopeSchema.parse(example);
    expect(YoumiChatListSchema.parse(envelope.values)).toHaveLength(1);
  });

  it('given the v1 token answer (§1.2), then the envelope parses and values need the token field the doc cut off', () => {
    const example = {
      errmsg: 10004,
      succeed: true,
      msgTime: '2020-06-23T15:46:11.6561987+08:00',
      values: { expires_in: 1593503171 },
    };
    const envelope = YoumiEnvelopeSchema.parse(example);
    expect(envelope.errmsg).toBe(10004);
    // The rest of values was not seen: with the token under a likely name, it parses.
    expect(YoumiV1TokenValuesSchema.parse({ ...(envelope.values as object), access_token: 'tok' })).toEqual({
      token: 'tok',
      expiresIn: 1593503171,
    });
    expect(YoumiV1TokenValuesSchema.safeParse(envelope.values).error?.issues[0]?.message).toContain(
      'fields seen: expires_in',
    );
  });

  it('given the v2 token answer ({} in the doc, §1.1), then it is refused naming access_token; the OAuth2 answer parses', () => {
    expect(YoumiTokenResponseSchema.safeParse({}).error?.issues[0]?.path).toEqual(['access_token']);
    expect(
      YoumiTokenResponseSchema.parse({
        access_token: 'a',
        expires_in: 7200,
        token_type: 'Bearer',
        scope: 'Ls.Qkl.PublicApi',
      }),
    ).toMatchObject({ access_token: 'a', expires_in: 7200 });
  });

  it('given the v1 data-call answers (§1.2, §3), then both msgTime forms parse', () => {
    expect(
      YoumiEnvelopeSchema.parse({
        errmsg: 20000,
        succeed: true,
        msgTime: '2018-05-11T15:40:14.1523923+08:00',
        values: [],
      }).succeed,
    ).toBe(true);
    expect(
      YoumiEnvelopeSchema.parse({
        msgTime: '2018/5/11 14:47:48',
        errmsg: 20000,
        succeed: true,
        values: true,
        errdesc: '',
      }).values,
    ).toBe(true);
  });

  it('given the v1 callback example (§3), then the receiver accepts it and answers as documented', () => {
    const receiver = new YoumiCallbackReceiver({ callbacks: { pathSecret: 'docs-example-path-secret' } });
    const answer = receiver.read({
      Type: 0,
      MerchantId: 9527,
      MsgTime: 1600239001,
      Values: { ad_friend_id: 1, ad_friend_uwenober: 'u', ad_friend_wenober: 'w' },
    });
    expect(answer).toMatchObject({ status: 200, body: { Result: true, ReturnCode: 200, Message: '操作完成' } });
  });
});
