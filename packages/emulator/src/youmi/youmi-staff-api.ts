import type { ApiArea } from '../platform-kit.js';
import { validateBody } from './youmi-envelope.js';
import { departGroupsRequestSchema, staffListRequestSchema } from './youmi-schemas.js';
import { v2Get, v2Post, type YoumiRoute, type YoumiState } from './youmi-state.js';

/** Agents (staff) and their organisation: departments, groups, staff (§2.3 System). */
export const youmiStaffApi: ApiArea<YoumiState, YoumiRoute> = (state) => ({
  '/v2/System/GetDepartList': v2Get(() =>
    state.data.departments.map((d) => ({ departid: d.departmentId, departname: d.departmentName })),
  ),
  '/v2/System/GetDepartGroupList': v2Post(({ body }) => {
    const { departId } = validateBody(departGroupsRequestSchema, body);
    return state.data.groups
      .filter((group) => departId === -1 || group.departmentId === departId)
      .map((group) => ({
        departgroupid: group.groupId,
        departgroupname: group.groupName,
        departid: group.departmentId,
      }));
  }),
  '/v2/System/GetStaffList': v2Post(({ body }) => {
    const query = validateBody(staffListRequestSchema, body);
    return state.data.staff
      .filter(
        (staff) =>
          (query.departId === -1 || staff.departmentId === query.departId) &&
          (query.departGroupId === -1 || staff.groupId === query.departGroupId) &&
          (query.staffState === 1 || staff.status === 1),
      )
      .map((staff) => state.staffRow(staff));
  }),
});
