import type { ApiArea } from '../platform-kit.js';
import { EnvelopeFailure, validateBody, YOUMI_ERRMSG } from './youmi-envelope.js';
import { getChatRequestSchema, sendMessageRequestSchema, type YoumiRawChat } from './youmi-schemas.js';
import { v2Post, type YoumiRoute, type YoumiState } from './youmi-state.js';

/** Messages and records: GetChat (the chat history, §2.1) and doSendPublicMes (send as the account). */
export const youmiMessageApi: ApiArea<YoumiState, YoumiRoute> = (state) => ({
  '/v2/ChatMess/GetChat': v2Post(({ body }) => getChat(state, body)),
  '/v2/ChatMess/doSendPublicMes': v2Post(({ body }) => sendMessage(state, body)),
});

function getChat(state: YoumiState, body: unknown): YoumiRawChat[] {
  const query = validateBody(getChatRequestSchema, body);
  const account = state.accountOrFail(query.wechatId);
  if (query.wechatKey && query.wechatKey !== account.wechatKey) {
    throw new EnvelopeFailure(YOUMI_ERRMSG.badParameters, 'wechatKey: does not match wechatId');
  }
  const index = state.data.fanIndex(query.wechatId, query.fansKey);
  // An unknown fan simply has no chats: an empty page.
  if (index === undefined) return [];
  const pageSize = Math.min(Number(query.pageSize), state.settings.maxPageSize);
  const offset = (Number(query.pageIndex) - 1) * pageSize;
  return state.store.page(query.wechatId, index, query, offset, pageSize).map((chat) => state.render(chat));
}

/** doSendPublicMes (§2.1): text, image and video were the documented examples. */
function sendMessage(state: YoumiState, body: unknown): true {
  const message = validateBody(sendMessageRequestSchema, body);
  const { account, index } = state.fanOrFail(message.ToUserName, message.WechatId);
  let type: number;
  let content: string;
  let resvred: Record<string, unknown> | undefined;
  switch (message.MsgType) {
    case 'text':
      if (!message.Text) throw new EnvelopeFailure(YOUMI_ERRMSG.badParameters, 'Text: is required for MsgType text');
      type = 1;
      content = message.Text;
      break;
    case 'image':
    case 'video':
      if (!message.Url)
        throw new EnvelopeFailure(YOUMI_ERRMSG.badParameters, `Url: is required for MsgType ${message.MsgType}`);
      type = message.MsgType === 'image' ? 3 : 43;
      content = `${message.MsgType === 'image' ? 'imgs' : 'video'}[${message.Url}]`;
      resvred = { url: message.Url, format: message.Format ?? '', description: message.Description ?? '' };
      break;
    default:
      throw new EnvelopeFailure(
        YOUMI_ERRMSG.badParameters,
        `MsgType: ${message.MsgType} is not one the emulator knows (the docs show text, image and video)`,
      );
  }
  const chat = state.store.append(account.wechatId, index, { fromAccount: true, type, content, resvred });
  state.events.emit('chat', state.render(chat));
  return true;
}
