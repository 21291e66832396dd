import type { EmulatorResponse } from '../platform.js';
import type { ApiArea } from '../platform-kit.js';
import { describeIssue, fail, ok, parseBody, parseJson, sec } from './wechat-answers.js';
import { Opercode } from './wechat-data.js';
import { WechatErrcode } from './wechat-errcodes.js';
import {
  MessagePayloadSchemas,
  type MessageType,
  SendMessageRequestSchema,
  TypingRequestSchema,
} from './wechat-schemas.js';
import type { WechatCall, WechatRoute, WechatState } from './wechat-state.js';

/**
 * Outgoing messages: `message/custom/send` within the customer's 48 h window and the per-message
 * send count, and `message/custom/typing` (needs an exchange in the last 30 s, lasts 15 s).
 */

const REPLY_WINDOW_MS = 48 * 3600_000;
const TYPING_EXCHANGE_MS = 30_000;
const TYPING_DURATION_MS = 15_000;

/** The message routes. */
export const wechatMessageApi: ApiArea<WechatState, WechatRoute> = (state) => ({
  '/cgi-bin/message/custom/send': { access: 'token', methods: ['POST'], handle: (call) => send(state, call) },
  '/cgi-bin/message/custom/typing': { access: 'token', methods: ['POST'], handle: (call) => typing(call) },
});

function send(platform: WechatState, call: WechatCall): EmulatorResponse {
  const raw = parseJson(call.request);
  if ('error' in raw) return raw.error;
  const envelope = SendMessageRequestSchema.safeParse(raw.value);
  if (!envelope.success) return fail(WechatErrcode.dataFormat, describeIssue(envelope.error));
  const { touser, msgtype, customservice } = envelope.data;
  if (!(msgtype in MessagePayloadSchemas)) return fail(WechatErrcode.invalidMessageType, `unknown msgtype ${msgtype}`);
  const type = msgtype as MessageType;
  const payload = MessagePayloadSchemas[type].safeParse((raw.value as Record<string, unknown>)[type]);
  if (!payload.success) return fail(WechatErrcode.dataFormat, `${type}.${describeIssue(payload.error)}`);
  if (type === 'news' && (payload.data as { articles: unknown[] }).articles.length > 1) {
    return fail(WechatErrcode.articleLimit, 'a customer-service news message carries exactly one article');
  }
  const customer = call.state.customers.get(touser);
  if (!customer) return fail(WechatErrcode.invalidOpenid);
  if (customservice && !call.state.agents.has(customservice.kf_account)) return fail(WechatErrcode.invalidKfAccount);
  if (call.now - customer.lastMessageAt > REPLY_WINDOW_MS) return fail(WechatErrcode.replyTimeLimit);
  if (customer.sentSinceMessage >= platform.options.messagesPerInteraction) return fail(WechatErrcode.sendCountLimit);
  customer.sentSinceMessage++;
  customer.lastExchangeAt = call.now;
  customer.typingUntil = 0;
  // The record keeps a text message's content; other types are recorded by their kind.
  const text = type === 'text' ? (payload.data as { content: string }).content : `[${type}]`;
  const worker = customservice?.kf_account ?? call.state.sessions.get(touser)?.kfAccount ?? '';
  platform.addLive(call.state, { openid: touser, opercode: Opercode.agentSent, text, time: sec(call.now), worker });
  return ok();
}

function typing(call: WechatCall): EmulatorResponse {
  const body = parseBody(call.request, TypingRequestSchema);
  if ('error' in body) return body.error;
  const { touser, command } = body.value;
  if (command !== 'Typing' && command !== 'CancelTyping') return fail(WechatErrcode.badTypingCommand);
  const customer = call.state.customers.get(touser);
  if (!customer) return fail(WechatErrcode.invalidOpenid);
  if (call.now - customer.lastMessageAt > REPLY_WINDOW_MS) return fail(WechatErrcode.replyTimeLimit);
  if (call.now - customer.lastExchangeAt > TYPING_EXCHANGE_MS) return fail(WechatErrcode.noRecentExchange);
  if (command === 'CancelTyping') {
    customer.typingUntil = 0;
    return ok();
  }
  if (customer.typingUntil > call.now) return fail(WechatErrcode.alreadyTyping);
  customer.typingUntil = call.now + TYPING_DURATION_MS;
  return ok();
}
