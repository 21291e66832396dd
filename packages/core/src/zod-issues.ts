/**
 * The one way kefu words a zod issue in an error message: `path: message`, the path dotted
 * (`accounts.0.secret`), and a placeholder naming the whole value when the path is empty.
 * Config files get richer lines from `describeZodIssues` (Required, did-you-mean), which
 * builds on the same shape.
 */

/** The parts of a zod issue a message needs (zod 4's `$ZodIssue` has them). */
export interface ZodIssueLike {
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

/** The dotted path of an issue, or `root` (default `(root)`) when the issue is about the whole value. */
export function zodIssuePath(issue: ZodIssueLike | undefined, root = '(root)'): string {
  return issue?.path.map(String).join('.') || root;
}

/** One issue as `path: message`; `root: invalid` when there is no issue to show. */
export function formatZodIssue(issue: ZodIssueLike | undefined, root = '(root)'): string {
  return `${zodIssuePath(issue, root)}: ${issue?.message ?? 'invalid'}`;
}

/** The first issue of a failed parse as `path: message` (see {@link formatZodIssue}). */
export function firstZodIssue(error: { readonly issues: readonly ZodIssueLike[] }, root = '(root)'): string {
  return formatZodIssue(error.issues[0], root);
}

/** The first `limit` issues as `{ path, message }`, for an error's details (`root` for an empty path). */
export function zodIssueList(
  error: { readonly issues: readonly ZodIssueLike[] },
  limit = 5,
  root = '',
): Array<{ path: string; message: string }> {
  return error.issues.slice(0, limit).map((issue) => ({ path: zodIssuePath(issue, root), message: issue.message }));
}
