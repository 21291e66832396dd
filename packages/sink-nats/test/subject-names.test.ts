import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { recordMessageId, recordSubject, subjectToken } from '../src/index.js';

describe('subject names', () => {
  it('given provider, account and kind, when naming, then the subject is prefix.provider.account.kind', () => {
    expect(recordSubject('kefu', { provider: 'wechat-mp', account: 'wx123', kind: 'text' })).toBe(
      'kefu.wechat-mp.wx123.text',
    );
  });

  it('given dots, spaces and wildcards, when sanitizing, then each becomes an underscore', () => {
    expect(subjectToken('a.b c*d>e\tf')).toBe('a_b_c_d_e_f');
    expect(subjectToken('')).toBe('_');
    expect(subjectToken('客服@shop')).toBe('客服@shop');
  });

  it('given any account, when naming, then the subject has exactly four tokens with no separator or wildcard inside', () => {
    fc.assert(
      fc.property(fc.string(), fc.string({ minLength: 1 }), (account, provider) => {
        const tokens = recordSubject('kefu', { provider, account, kind: 'text' }).split('.');
        expect(tokens).toHaveLength(4);
        for (const token of tokens) {
          expect(token.length).toBeGreaterThan(0);
          expect(token).not.toMatch(/[\s*>]/);
        }
      }),
    );
  });

  it('given a record, when naming its message id, then it is provider:account:id unsanitized', () => {
    expect(recordMessageId({ provider: 'youmi', account: 'a.b', id: 'r 1' })).toBe('youmi:a.b:r 1');
  });
});
