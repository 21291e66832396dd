import type { ApiArea } from '../platform-kit.js';
import { hash32, unitFloat } from '../seeded-random.js';
import { EnvelopeFailure, validateBody, YOUMI_ERRMSG } from './youmi-envelope.js';
import {
  addTodoRequestSchema,
  adListRequestSchema,
  saveBulkSendRequestSchema,
  todoListRequestSchema,
} from './youmi-schemas.js';
import { type Todo, v2Post, type YoumiRoute, type YoumiState } from './youmi-state.js';
import { formatYoumiTime } from './youmi-time.js';

/**
 * Control of the customer relationship (not chats): follow-up tasks (Todo), ads (AdManage) and
 * bulk sends (BulkSend, which report their result as an `rpaTaskResult` event).
 */
export const youmiCrmApi: ApiArea<YoumiState, YoumiRoute> = (state) => ({
  '/v2/Todo/AddRecord': v2Post(({ body, now }) => {
    addTodo(state, body, now);
    return true;
  }),
  '/v2/Todo/AddRecordNew': v2Post(({ body, now }) => addTodo(state, body, now).id),
  '/v2/Todo/GetChargeDaffairesList': v2Post(({ body }) => {
    const query = validateBody(todoListRequestSchema, body);
    return state.pageOf(filterTodos(state, query), query.pageIndex, query.pageSize).map((todo) => todoRow(state, todo));
  }),
  '/v2/Todo/GetChargeDaffairesCount': v2Post(
    ({ body }) => filterTodos(state, validateBody(todoListRequestSchema, body)).length,
  ),
  '/v2/AdManage/GetAdList': v2Post(({ body }) => {
    const query = validateBody(adListRequestSchema, body);
    if (query.pageIndex === undefined || query.pageSize === undefined) {
      throw new EnvelopeFailure(YOUMI_ERRMSG.badParameters, 'pageIndex, pageSize: are required');
    }
    return state.pageOf(filterAds(state, query), query.pageIndex, query.pageSize);
  }),
  '/v2/AdManage/GetAdCount': v2Post(({ body }) => filterAds(state, validateBody(adListRequestSchema, body)).length),
  '/v2/BulkSend/SaveBulkSendTask': v2Post(({ body, now }) => {
    validateBody(saveBulkSendRequestSchema, body);
    const taskId = `RPA${hash32(state.settings.seed, 'rpa', now, state.bulkSends.length).toString(16).padStart(8, '0')}`;
    state.bulkSends.push(taskId);
    state.events.emit('rpaTaskResult', {
      taskId,
      state: 1,
      finishTime: formatYoumiTime(now, state.readings.timeFormat),
    });
    return taskId;
  }),
});

function addTodo(state: YoumiState, body: unknown, now: number): Todo {
  const request = validateBody(addTodoRequestSchema, body);
  if (request.Weixin) state.fanOrFail(request.Weixin);
  const staffCode = request.SffId === undefined || request.SffId === null ? null : String(request.SffId);
  if (staffCode) state.staffOrFail(staffCode);
  const todo: Todo = {
    id: 80_001 + state.todos.length,
    weixin: request.Weixin ?? null,
    staffCode,
    remindTitle: request.RemindTitle ?? '',
    followupsiTuation: request.FollowupsiTuation ?? '',
    remindTime: request.RemindTime ?? null,
    recipients: request.Recipient ?? [],
    createdAt: now,
    usersate: 0,
  };
  state.todos.push(todo);
  return todo;
}

function filterTodos(
  state: YoumiState,
  query: {
    startTimestamp?: number | null;
    endTimestamp?: number | null;
    createStaff?: string | null;
    usersate: number;
  },
): Todo[] {
  return state.todos.filter(
    (todo) =>
      (!query.startTimestamp || todo.createdAt >= query.startTimestamp * 1000) &&
      (!query.endTimestamp || todo.createdAt <= query.endTimestamp * 1000) &&
      (!query.createStaff || todo.staffCode === query.createStaff) &&
      (query.usersate === -1 || todo.usersate === query.usersate),
  );
}

function todoRow(state: YoumiState, todo: Todo) {
  return {
    chargeDaffairesId: todo.id,
    weixin: todo.weixin,
    createStaff: todo.staffCode,
    remindTitle: todo.remindTitle,
    followupsiTuation: todo.followupsiTuation,
    remindTime: todo.remindTime,
    recipient: todo.recipients,
    usersate: todo.usersate,
    createTime: formatYoumiTime(todo.createdAt, state.readings.timeFormat),
  };
}

function filterAds(
  state: YoumiState,
  query: { name: string; code?: string | null | undefined; state: number; buildType: number },
) {
  return state.data.ads
    .map((ad, index) => ({
      code: `AD${ad.adId}`,
      name: ad.title,
      costs: Math.round(unitFloat(state.settings.seed, 'ad-costs', ad.adId) * 100_000) / 100,
      state: ad.status,
      buildType: index % 3 === 0 ? 1 : 0,
      url: ad.url,
      createTime: ad.createTime,
    }))
    .filter(
      (ad) =>
        (!query.name || ad.name.includes(query.name)) &&
        (!query.code || ad.code === query.code) &&
        (query.state === -1 || ad.state === query.state) &&
        (query.buildType === -1 || ad.buildType === query.buildType),
    );
}
