import type { ApiArea } from '../platform-kit.js';
import { answerMediaGet } from './media.js';
import type { WechatRoute, WechatState } from './wechat-state.js';

/** Media: `GET /cgi-bin/media/get` serves what the server pushes carried (media.ts), for 3 days. */
export const wechatMediaApi: ApiArea<WechatState, WechatRoute> = (state) => ({
  '/cgi-bin/media/get': {
    access: 'token',
    methods: ['GET'],
    handle: (call) => answerMediaGet(state.pushes, call.request, call.now),
  },
});
