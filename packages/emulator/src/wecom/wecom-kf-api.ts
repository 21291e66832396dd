import type { ApiArea } from '../platform-kit.js';
import { fail, ok, WECOM_PREFIX } from './wecom-answers.js';
import type { WecomRoute, WecomState } from './wecom-state.js';

/**
 * The management calls (wecom-kf.md §6): accounts (POST `kf/account/list` with paging),
 * servicers (GET `kf/servicer/list`, status 0 on duty / 1 stopped), `kf/send_msg` (answers a
 * msgid; the message never comes back from sync_msg), and `media/get` (bytes, or 40007).
 */
export const wecomKfApi: ApiArea<WecomState, WecomRoute> = (state) => ({
  [`${WECOM_PREFIX}/cgi-bin/kf/account/list`]: {
    handle: (_request, body) => {
      const offset = Number(body.offset ?? 0);
      const limit = Number(body.limit ?? 100);
      const accounts = state.accounts.map((openKfId, index) => ({
        open_kfid: openKfId,
        name: `客服${index + 1}`,
        manage_privilege: true,
      }));
      return ok({ account_list: accounts.slice(offset, offset + limit) });
    },
  },
  [`${WECOM_PREFIX}/cgi-bin/kf/servicer/list`]: {
    handle: (request) => {
      if (!state.accounts.includes(request.url.searchParams.get('open_kfid') ?? ''))
        return fail(95000, 'invalid open_kfid');
      return ok({
        servicer_list: [
          { userid: 'zhangsan', status: 0 },
          { userid: 'lisi', status: 1, stop_type: 1 },
          { department_id: 2 },
        ],
      });
    },
  },
  [`${WECOM_PREFIX}/cgi-bin/kf/send_msg`]: {
    handle: (_request, body) => {
      if (!state.accounts.includes(String(body.open_kfid ?? ''))) return fail(95000, 'invalid open_kfid');
      if (typeof body.touser !== 'string' || !body.touser.startsWith('wm'))
        return fail(40096, 'invalid external userid');
      const msgid = typeof body.msgid === 'string' ? body.msgid : `sent_${state.serial()}`;
      state.sent.push({ ...body, msgid });
      return ok({ msgid });
    },
  },
  [`${WECOM_PREFIX}/cgi-bin/media/get`]: {
    handle: (request) => {
      const media = state.media.get(request.url.searchParams.get('media_id') ?? '');
      if (!media) return fail(40007, 'invalid media_id');
      return { status: 200, headers: { 'content-type': 'image/jpeg' }, body: media };
    },
  },
});
