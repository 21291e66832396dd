import { firstZodIssue, formatZodIssue, zodIssueList, zodIssuePath } from '@kefu/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';

describe('zod issue wording', () => {
  const schema = z.object({ accounts: z.array(z.object({ secret: z.string() })) });
  const failure = schema.safeParse({ accounts: [{ secret: 1 }, {}] });
  if (failure.success) throw new Error('the test schema must reject its input');

  it('words an issue as `path: message`, the path dotted', () => {
    expect(zodIssuePath(failure.error.issues[0])).toBe('accounts.0.secret');
    expect(firstZodIssue(failure.error)).toBe(`accounts.0.secret: ${failure.error.issues[0]?.message}`);
  });

  it('names the whole value with the placeholder given when the path is empty, and says invalid without an issue', () => {
    const whole = z.string().safeParse(1);
    if (whole.success) throw new Error('unreachable');
    expect(firstZodIssue(whole.error, 'body')).toMatch(/^body: /);
    expect(formatZodIssue(undefined, 'options')).toBe('options: invalid');
  });

  it('lists at most `limit` issues for error details', () => {
    expect(zodIssueList(failure.error, 1)).toEqual([
      { path: 'accounts.0.secret', message: failure.error.issues[0]?.message },
    ]);
    expect(zodIssueList(failure.error).map((issue) => issue.path)).toEqual(['accounts.0.secret', 'accounts.1.secret']);
  });
});
