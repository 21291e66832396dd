import { describe, expect, it } from 'vitest';
import { callWithAccessToken } from '../src/index.js';

/** A token source handing out t1, t2, … and recording what was invalidated. */
function tokenSource() {
  let issued = 0;
  const invalidated: string[] = [];
  return {
    invalidated,
    getToken: async () => `t${++issued}`,
    invalidate: async (token: string) => {
      invalidated.push(token);
    },
  };
}

/** A sender answering `answerFor(token)` and recording the tokens it was given. */
function sender(answerFor: (token: string) => string) {
  const sent: string[] = [];
  const send = async (token: string) => {
    sent.push(token);
    return answerFor(token);
  };
  return { sent, send };
}

describe('callWithAccessToken', () => {
  it('given an accepted token, then it sends once and invalidates nothing', async () => {
    const tokens = tokenSource();
    const { sent, send } = sender(() => 'ok');
    const answer = await callWithAccessToken(tokens, send, (a) => a === 'refused');
    expect({ answer, sent, invalidated: tokens.invalidated }).toEqual({ answer: 'ok', sent: ['t1'], invalidated: [] });
  });

  it('given a refused token, then it invalidates that one and sends once more with a fresh one', async () => {
    const tokens = tokenSource();
    const { sent, send } = sender((token) => (token === 't1' ? 'refused' : 'ok'));
    const answer = await callWithAccessToken(tokens, send, (a) => a === 'refused');
    expect({ answer, sent, invalidated: tokens.invalidated }).toEqual({
      answer: 'ok',
      sent: ['t1', 't2'],
      invalidated: ['t1'],
    });
  });

  it('given every token refused, then it stops after the second send, both invalidated, and returns that answer', async () => {
    const tokens = tokenSource();
    const { sent, send } = sender(() => 'refused');
    const answer = await callWithAccessToken(tokens, send, (a) => a === 'refused');
    expect({ answer, sent, invalidated: tokens.invalidated }).toEqual({
      answer: 'refused',
      sent: ['t1', 't2'],
      invalidated: ['t1', 't2'],
    });
  });
});
