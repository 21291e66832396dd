import { describe, expect, it } from 'vitest';
import { toNatsSinkError } from '../src/index.js';

/** An error shaped like the NATS client's (they are told apart by `name`). */
function natsError(name: string, message: string, cause?: unknown): Error {
  const error = new Error(message, cause === undefined ? undefined : { cause });
  error.name = name;
  return error;
}

// PubAck timeouts and authorization failures cannot be produced on demand with the shared
// test server (it has no auth and answers fast), so the mapping is checked on the client's
// error shapes; the outage test in nats-jetstream-sink.test.ts covers a real disconnect.
describe('toNatsSinkError', () => {
  it.each([
    ['TimeoutError', 'SINK_NATS_TIMEOUT', true],
    ['ConnectionError', 'SINK_NATS_UNREACHABLE', true],
    ['ClosedConnectionError', 'SINK_NATS_UNREACHABLE', true],
    ['NoRespondersError', 'SINK_NATS_NO_STREAM', true],
    ['AuthorizationError', 'SINK_NATS_REJECTED', false],
    ['PermissionViolationError', 'SINK_NATS_REJECTED', false],
  ])('given a %s, when mapped, then it is %s (retryable %s)', (name, code, retryable) => {
    const error = toNatsSinkError(natsError(name, 'boom'), 'publishing r1');
    expect(error.code).toBe(code);
    expect(error.retryable).toBe(retryable);
    expect(error.message).toBe('publishing r1: boom');
  });

  it('given the real error nested as a cause, when mapped, then the cause decides', () => {
    const error = toNatsSinkError(
      natsError('RequestError', 'request failed', natsError('TimeoutError', 'timeout')),
      'x',
    );
    expect(error.code).toBe('SINK_NATS_TIMEOUT');
  });

  it('given an unknown error, when mapped, then it is a retryable SINK_NATS_UNREACHABLE', () => {
    const error = toNatsSinkError(new Error('socket hang up'), 'x');
    expect(error.code).toBe('SINK_NATS_UNREACHABLE');
    expect(error.retryable).toBe(true);
  });
});
