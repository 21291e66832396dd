import type { ApiArea } from '../platform-kit.js';
import type { YoumiStaff } from './youmi-data.js';
import { EnvelopeFailure, validateBody, YOUMI_ERRMSG } from './youmi-envelope.js';
import { activationReportRequestSchema, staffCustomerReportRequestSchema } from './youmi-schemas.js';
import { v2Post, type YoumiRoute, type YoumiState } from './youmi-state.js';
import { parseYoumiTime } from './youmi-time.js';

/** Reports (§2.2): chats per staff member, group or department; activations per staff member. */
export const youmiReportApi: ApiArea<YoumiState, YoumiRoute> = (state) => ({
  '/v2/Report/GetDataByStaffCustomer': v2Post(({ body }) => staffCustomerReport(state, body)),
  '/v2/Report/GetActivationListByStaff': v2Post(({ body }) => activationReport(state, body)),
});

type StaffCustomerQuery = ReturnType<typeof staffCustomerReportRequestSchema.parse>;
type ReportRow = Record<string, unknown> & { customerCount: number; sendCount: number; receiveCount: number };
type StaffTally = { sent: number; received: number; fans: Set<string> };

/** GetDataByStaffCustomer (§2.2; the response was not seen: one row per staff, group or department). */
function staffCustomerReport(state: YoumiState, body: unknown) {
  const query = validateBody(staffCustomerReportRequestSchema, body);
  const from = query.startDate ? parseYoumiTime(query.startDate) : Number.MIN_SAFE_INTEGER;
  const to = query.endDate ? parseYoumiTime(query.endDate) : Number.MAX_SAFE_INTEGER;
  if (Number.isNaN(from) || Number.isNaN(to)) {
    throw new EnvelopeFailure(YOUMI_ERRMSG.badParameters, 'startDate, endDate: must be yyyy-MM-dd HH:mm:ss');
  }
  const perStaff = tallyPerStaff(state, from, to);
  const staff = state.data.staff.filter(
    (s) =>
      (query.staffState || s.status === 1) &&
      (!query.staffCode || s.staffCode === query.staffCode) &&
      (query.departId === undefined || query.departId === -1 || s.departmentId === query.departId) &&
      (query.departGroupId === undefined || query.departGroupId === -1 || s.groupId === query.departGroupId),
  );
  const keyOf = (s: YoumiStaff) =>
    query.show === 1 ? `d${s.departmentId}` : query.show === 2 ? `g${s.groupId}` : s.staffCode;
  const rows = new Map<string, ReportRow>();
  for (const s of staff) {
    const key = keyOf(s);
    const entry = perStaff.get(s.staffCode);
    const row = rows.get(key) ?? emptyRow(state, s, query.show);
    row.customerCount += entry?.fans.size ?? 0;
    row.sendCount += entry?.sent ?? 0;
    row.receiveCount += entry?.received ?? 0;
    rows.set(key, row);
  }
  return orderAndPage(state, [...rows.values()], query);
}

/** Chats sent and received and fans served per staff code over `[from, to]`. */
function tallyPerStaff(state: YoumiState, from: number, to: number): Map<string, StaffTally> {
  const perStaff = new Map<string, StaffTally>();
  for (const { wechatId } of state.data.accounts) {
    for (const index of state.fanIndexes()) {
      const owner = state.currentFan(wechatId, index).staffCode;
      for (const chat of state.store.truth(wechatId, index, from, to)) {
        const code = chat.fromAccount ? chat.staffCode : owner;
        if (!code) continue;
        const entry = perStaff.get(code) ?? { sent: 0, received: 0, fans: new Set<string>() };
        if (chat.fromAccount) entry.sent += 1;
        else entry.received += 1;
        entry.fans.add(`${wechatId}:${index}`);
        perStaff.set(code, entry);
      }
    }
  }
  return perStaff;
}

/** A zeroed row naming a staff member (show 3), a group (2) or a department (otherwise). */
function emptyRow(state: YoumiState, staff: YoumiStaff, show: number | undefined | null): ReportRow {
  const row = state.staffRow(staff);
  const counts = { customerCount: 0, sendCount: 0, receiveCount: 0 };
  if (show === 3) {
    return {
      ad_staff_code: row.ad_staff_code,
      ad_staff_name: row.ad_staff_name,
      depart_name: row.depart_name,
      depart_group_name: row.depart_group_name,
      ...counts,
    };
  }
  if (show === 2) return { depart_name: row.depart_name, depart_group_name: row.depart_group_name, ...counts };
  return { depart_name: row.depart_name, ...counts };
}

function orderAndPage(state: YoumiState, rows: ReportRow[], query: StaffCustomerQuery): ReportRow[] {
  const orderKey = query.orderKey ?? 'ad_staff_name';
  const sorted = rows.sort((a, b) => String(a[orderKey] ?? '').localeCompare(String(b[orderKey] ?? '')));
  if (query.orderType === 'desc') sorted.reverse();
  return query.pageIndex !== undefined && query.pageSize !== undefined
    ? state.pageOf(sorted, query.pageIndex, query.pageSize)
    : sorted;
}

/** GetActivationListByStaff (§2.2): activations of the day starting at `time` (the response was not seen). */
function activationReport(state: YoumiState, body: unknown) {
  const query = validateBody(activationReportRequestSchema, body);
  const from = query.time * 1000;
  const to = from + 86_400_000;
  const department = Number(query.ad_departid);
  const group = Number(query.ad_departgroupid ?? -1);
  return state.data.staff
    .filter(
      (s) =>
        (!query.ad_staff_code || s.staffCode === query.ad_staff_code) &&
        (department === -1 || s.departmentId === department) &&
        (group === -1 || s.groupId === group),
    )
    .map((s) => ({
      ad_staff_code: s.staffCode,
      ad_staff_name: s.staffName,
      activationCount: state.activations.filter((a) => a.staffCode === s.staffCode && a.at >= from && a.at < to).length,
    }));
}
