import { isKefuError } from '@kefu/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkBoundary, judgeMsgListPage, numberMismatchWarning } from '../src/msglist-cursor.js';
import { identityDigest, recordIdentity } from '../src/record-normalizer.js';

const WINDOW = { appId: 'wx-cursor', start: 1_768_320_000, end: 1_768_406_400 };
const codeOf = (run: () => unknown) => {
  try {
    run();
    return 'ok';
  } catch (error) {
    return isKefuError(error) ? error.code : String(error);
  }
};

describe('the getmsglist cursor rules', () => {
  it('given a full page, then the next request is the answered msgid unchanged, whatever its size (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 1, max: 2 ** 40 }),
        fc.integer({ min: 1, max: 2 ** 40 }),
        (pageSize, requested, step) => {
          const answered = requested + step;
          expect(judgeMsgListPage({ count: pageSize, msgid: answered }, requested, pageSize, WINDOW)).toEqual({
            done: false,
            next: answered,
          });
        },
      ),
    );
  });

  it('given an empty or short page, then the window is over, whatever msgid came with it (unless it went back)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 10_000 }), fc.nat(), fc.option(fc.nat()), (pageSize, shortBy, msgid) => {
        const count = Math.max(0, pageSize - 1 - shortBy);
        const answer = { count, msgid: msgid ?? undefined };
        const verdict = () => judgeMsgListPage(answer, 1, pageSize, WINDOW);
        expect(verdict()).toEqual({ done: true });
      }),
    );
  });

  it('given a full page with msgid 0, absent, equal, lower or beyond 2^53, then each is its own typed, non-retryable error', () => {
    const full = (msgid: number | undefined) => () => judgeMsgListPage({ count: 50, msgid }, 1000, 50, WINDOW);
    expect(codeOf(full(0))).toBe('WECHAT_MSGID_MISSING');
    expect(codeOf(full(undefined))).toBe('WECHAT_MSGID_MISSING');
    expect(codeOf(full(1000))).toBe('WECHAT_MSGID_NOT_ADVANCING');
    expect(codeOf(full(999))).toBe('WECHAT_MSGID_BACKWARDS');
    expect(codeOf(full(2 ** 53 + 2))).toBe('WECHAT_MSGID_UNUSABLE');
    expect(codeOf(full(1000.5))).toBe('WECHAT_MSGID_UNUSABLE');
    // A short page going back is impossible too: its records may be fine, the platform is not.
    expect(codeOf(() => judgeMsgListPage({ count: 3, msgid: 999 }, 1000, 50, WINDOW))).toBe('WECHAT_MSGID_BACKWARDS');
    try {
      full(1000)();
    } catch (error) {
      expect(isKefuError(error) && error.retryable).toBe(false);
      expect(isKefuError(error) && error.details).toMatchObject({
        requestedMsgid: 1000,
        answeredMsgid: 1000,
        records: 50,
      });
    }
  });

  it('given a number that is not the count of records, then a warning names both; an equal or absent number is none', () => {
    expect(numberMismatchWarning({ count: 37, number: 37 }, 1, WINDOW)).toBeUndefined();
    expect(numberMismatchWarning({ count: 37 }, 1, WINDOW)).toBeUndefined();
    const warning = numberMismatchWarning({ count: 37, number: 10_000 }, 5, WINDOW);
    expect(warning?.code).toBe('WECHAT_MSGLIST_NUMBER_MISMATCH');
    expect(warning?.details).toMatchObject({ number: 10_000, records: 37, requestedMsgid: 5 });
  });
});

describe('the repeated boundary record', () => {
  const record = (text: string) => ({ openid: 'o1', opercode: 2003, text, time: 1_768_320_100, worker: 'kf1@x' });
  const digest = (text: string) => identityDigest(recordIdentity(WINDOW.appId, record(text)));

  it('given no boundary (a window start), then nothing is dropped and nothing learned', () => {
    expect(checkBoundary(WINDOW.appId, record('a'), undefined, false)).toEqual({ dropFirst: false, exclusive: false });
  });

  it('given a first record equal to the boundary on a platform not known exclusive, then it is dropped', () => {
    expect(checkBoundary(WINDOW.appId, record('a'), digest('a'), false)).toEqual({ dropFirst: true, exclusive: false });
  });

  it('given a first record different from the boundary, then the platform is known exclusive from then on', () => {
    expect(checkBoundary(WINDOW.appId, record('b'), digest('a'), false)).toEqual({ dropFirst: false, exclusive: true });
    // Known exclusive: an identical first record is a genuine second message, kept.
    expect(checkBoundary(WINDOW.appId, record('a'), digest('a'), true)).toEqual({ dropFirst: false, exclusive: true });
  });
});
