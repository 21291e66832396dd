import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { runCli } from '@kefu/cli';
import { isKefuError, loadKefu, parseKefuConfig } from '@kefu/core';
import { WechatMpProvider } from '@kefu/wechat-mp';
import { YoumiCallbackReceiver, YoumiProvider } from '@kefu/youmi';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Bad input, fuzzed with fast-check (bounded runs): every case ends in success or a typed
 * KefuError (or, for the CLI, an exit code; for callbacks, a documented error answer) —
 * never an unhandled exception, never a hang (each case races a timeout).
 */

const CASE_TIMEOUT_MS = 10_000;

/** Settles with `promise`, or rejects when it takes longer than {@link CASE_TIMEOUT_MS}: a hang is a failure. */
function withinTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`hang: ${what} did not settle in ${CASE_TIMEOUT_MS} ms`)),
      CASE_TIMEOUT_MS,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Success, or a KefuError; anything else is rethrown and fails the property. */
async function typedOutcome(operation: () => Promise<unknown>, what: string): Promise<'ok' | string> {
  try {
    await withinTimeout(operation(), what);
    return 'ok';
  } catch (error) {
    if (isKefuError(error)) return error.code;
    throw error;
  }
}

let scratch: string;
beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'kefu-fuzz-'));
});
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

/** Config-shaped values: known keys with arbitrary content, so the fuzzer reaches deep validation. */
const pluginEntry = fc.record(
  {
    use: fc.oneof(
      fc.string(),
      fc.constantFrom('@kefu/wechat-mp', '@kefu/youmi', '@kefu/sink-file', '@kefu/sink-db', '@kefu/sink-http'),
    ),
    id: fc.oneof(fc.string(), fc.constantFrom('wx', 'files', 'db')),
    config: fc.jsonValue({ maxDepth: 3 }),
  },
  { requiredKeys: [] },
);
const configShaped = fc.record(
  {
    providers: fc.oneof(fc.array(pluginEntry, { maxLength: 3 }), fc.jsonValue({ maxDepth: 2 })),
    sinks: fc.oneof(fc.array(pluginEntry, { maxLength: 3 }), fc.jsonValue({ maxDepth: 2 })),
    checkpoints: fc.oneof(
      fc.record(
        { use: fc.constantFrom('memory', 'file', 'sink', 'x'), path: fc.string(), sink: fc.string() },
        { requiredKeys: [] },
      ),
      fc.jsonValue({ maxDepth: 2 }),
    ),
    logger: fc.jsonValue({ maxDepth: 2 }),
    sync: fc.jsonValue({ maxDepth: 2 }),
  },
  { requiredKeys: [] },
);
const anyConfig = fc.oneof(fc.jsonValue({ maxDepth: 4 }), configShaped);

describe('bad input: config files', () => {
  it('given arbitrary JSON (300 cases), when parsed as a kefu config, then it is accepted or refused with a typed error', () => {
    fc.assert(
      fc.property(anyConfig, (raw) => {
        try {
          parseKefuConfig(raw);
        } catch (error) {
          expect(isKefuError(error), String(error)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('given arbitrary JSON config files (60 cases), when loaded with loadKefu, then each load ends in a runtime or a typed error', async () => {
    let index = 0;
    await fc.assert(
      fc.asyncProperty(anyConfig, async (raw) => {
        const path = join(scratch, `config-${index++}.json`);
        writeFileSync(path, JSON.stringify(raw));
        await typedOutcome(async () => {
          const kefu = await loadKefu(path);
          await kefu.close();
        }, 'loadKefu');
      }),
      { numRuns: 60 },
    );
  }, 120_000);
});

/** A writable that keeps what is written. */
class CapturedStream extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.text += chunk.toString();
    callback();
  }
}

describe('bad input: CLI flags', () => {
  it('given random argv (150 cases), when the CLI runs, then every case resolves to an exit code', async () => {
    // A config whose provider points at a closed loopback port, so `sync`/`records` fail fast.
    const config = join(scratch, 'kefu.json');
    writeFileSync(
      config,
      JSON.stringify({
        providers: [
          {
            use: '@kefu/wechat-mp',
            id: 'wx',
            config: {
              baseUrl: 'http://127.0.0.1:9',
              accounts: [{ appId: 'wx-fuzz', secret: 'fuzz-secret-1' }],
              retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
            },
          },
        ],
        sinks: [{ use: '@kefu/sink-file', id: 'files', config: { dir: join(scratch, 'out') } }],
      }),
    );
    // `emulator` and `demo` are left out: they serve / run a full demo by design until stopped.
    const token = fc.oneof(
      fc.constantFrom('sync', 'records', 'doctor', 'schema', 'config', 'help'),
      fc.constantFrom(
        '-c',
        '--config',
        config,
        'missing.yaml',
        '--from',
        '--to',
        '7d',
        '12h',
        '2026-01-01',
        'yesterday',
      ),
      fc.constantFrom(
        '--json',
        '--dry-run',
        '--batch-size',
        '0',
        '-1',
        '1e9',
        '--provider',
        'wx',
        '--log-level',
        'debug',
      ),
      fc.constantFrom('--help', '--version', '-h', '--', '-', ''),
      fc.string({ maxLength: 12 }),
    );
    const codes = new Set<number>();
    await fc.assert(
      fc.asyncProperty(fc.array(token, { maxLength: 8 }), async (argv) => {
        const stdout = new CapturedStream();
        const stderr = new CapturedStream();
        const code = await withinTimeout(
          runCli(argv, { stdout, stderr, env: {}, cwd: scratch }),
          `kefu ${argv.join(' ')}`,
        );
        expect(Number.isInteger(code), `kefu ${JSON.stringify(argv)} → ${String(code)}`).toBe(true);
        codes.add(code);
      }),
      { numRuns: 150 },
    );
    // Both accepted and refused command lines were generated.
    expect(codes.size).toBeGreaterThan(1);
  }, 180_000);
});

/** A loopback server answering every API call with the current fuzz case's status and body; token endpoints answer validly. */
interface FuzzServer {
  url: string;
  answer: { status: number; body: Buffer; contentType: string };
  close(): Promise<void>;
}

async function startFuzzServer(): Promise<FuzzServer> {
  const state: FuzzServer = {
    url: '',
    answer: { status: 200, body: Buffer.from('{}'), contentType: 'application/json' },
    close: async () => {},
  };
  const server: Server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      const path = new URL(request.url ?? '/', 'http://x').pathname;
      if (path === '/cgi-bin/stable_token' || path === '/cgi-bin/token' || path === '/oauth/token') {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ access_token: 'fuzz-token', expires_in: 7200 }));
        return;
      }
      response.writeHead(state.answer.status, { 'content-type': state.answer.contentType });
      response.end(state.answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}

const wechatLike = fc.record(
  {
    errcode: fc.oneof(fc.integer(), fc.constantFrom(0, -1, 40001, 42001, 45009, 45011, 65417), fc.string()),
    errmsg: fc.oneof(fc.string(), fc.integer()),
    recordlist: fc.oneof(
      fc.array(
        fc.record(
          {
            openid: fc.oneof(fc.string(), fc.integer()),
            opercode: fc.oneof(fc.integer(), fc.constantFrom(1000, 2002, 2003)),
            text: fc.oneof(fc.string(), fc.constant(null)),
            time: fc.oneof(fc.integer(), fc.double(), fc.string()),
            worker: fc.string(),
          },
          { requiredKeys: [] },
        ),
        { maxLength: 5 },
      ),
      fc.jsonValue({ maxDepth: 2 }),
    ),
    msgid: fc.oneof(fc.integer(), fc.string()),
    kf_list: fc.jsonValue({ maxDepth: 3 }),
  },
  { requiredKeys: [] },
);
const youmiLike = fc.record(
  {
    succeed: fc.oneof(fc.boolean(), fc.string()),
    errmsg: fc.oneof(fc.integer(), fc.string()),
    errdesc: fc.oneof(fc.string(), fc.constant(null)),
    values: fc.oneof(
      fc.record(
        { total: fc.oneof(fc.integer(), fc.string()), list: fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 4 }) },
        { requiredKeys: [] },
      ),
      fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 4 }),
      fc.jsonValue({ maxDepth: 2 }),
    ),
  },
  { requiredKeys: [] },
);
const answer = (shaped: fc.Arbitrary<unknown>) =>
  fc.record({
    status: fc.constantFrom(200, 200, 200, 204, 400, 404, 500, 503),
    body: fc.oneof(
      shaped.map((value) => Buffer.from(JSON.stringify(value))),
      fc.jsonValue().map((value) => Buffer.from(JSON.stringify(value))),
      fc.string().map((text) => Buffer.from(text)),
      fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
    ),
    contentType: fc.constantFrom('application/json', 'text/html', 'application/octet-stream'),
  });

describe('bad input: platform payloads', () => {
  let server: FuzzServer;
  beforeAll(async () => {
    server = await startFuzzServer();
  });
  afterAll(async () => {
    await server.close();
  });
  const to = new Date(Date.UTC(2026, 0, 3, 16));
  const from = new Date(to.getTime() - 2 * 86_400_000);

  it('given arbitrary WeChat answers (200 cases), when listing agents and reading records, then each ends in success or a typed error', async () => {
    const provider = new WechatMpProvider(
      {
        accounts: [{ appId: 'wx-fuzz', secret: 'fuzz-secret-2' }],
        baseUrl: server.url,
        retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 },
        timeouts: { connectMs: 2000, requestMs: 2000 },
      },
      // The 45011 wait lasts until the next minute: a clock 10 ms before one keeps it short.
      { now: () => Math.floor(Date.now() / 60_000) * 60_000 + 59_990 },
    );
    const outcomes = new Set<string>();
    try {
      await fc.assert(
        fc.asyncProperty(answer(wechatLike), async (next) => {
          server.answer = next;
          outcomes.add(await typedOutcome(() => provider.listAgents(), 'wechat listAgents'));
          await typedOutcome(async () => {
            for await (const page of provider.records({ from, to }).pages()) void page;
          }, 'wechat records');
        }),
        { numRuns: 200 },
      );
      // The fuzzer reached both ends: successes and several typed errors.
      console.info(`outcomes: ${[...outcomes].join(', ')}`);
      expect(outcomes.size).toBeGreaterThan(2);
    } finally {
      await provider.close();
    }
  }, 180_000);

  it('given arbitrary Youmi answers (200 cases), when listing agents and reading records, then each ends in success or a typed error', async () => {
    const provider = new YoumiProvider({
      baseUrl: server.url,
      tokenUrl: `${server.url}/oauth/token`,
      clientId: 'fuzz-client',
      clientSecret: 'fuzz-secret-3',
      wechatIds: [10001],
      retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1, jitter: 1 },
      timeouts: { connectMs: 2000, headersMs: 2000, bodyMs: 2000 },
    });
    const outcomes = new Set<string>();
    try {
      await fc.assert(
        fc.asyncProperty(answer(youmiLike), async (next) => {
          server.answer = next;
          outcomes.add(await typedOutcome(() => provider.listAgents(), 'youmi listAgents'));
          await typedOutcome(async () => {
            for await (const page of provider.records({ account: '10001', from, to }).pages()) void page;
          }, 'youmi records');
        }),
        { numRuns: 200 },
      );
      // The fuzzer reached several distinct typed outcomes. A valid Youmi envelope with a
      // valid staff list is rare among random answers, so `ok` is not required here (the
      // WeChat case above reaches it; the emulator tests cover Youmi's successes).
      console.info(`outcomes: ${[...outcomes].join(', ')}`);
      expect(outcomes.size).toBeGreaterThanOrEqual(2);
    } finally {
      await provider.close();
    }
  }, 180_000);
});

describe('bad input: Youmi callback bodies', () => {
  it('given arbitrary parsed bodies (300 cases), when read, then the answer is 200 or a documented 400 envelope', () => {
    const receiver = new YoumiCallbackReceiver({ callbacks: { pathSecret: 'bad-input-path-secret-0123456789' } });
    const callbackLike = fc.record(
      {
        Type: fc.oneof(fc.string(), fc.integer()),
        type: fc.oneof(fc.constantFrom('chat', 'friend', 'unknown'), fc.string()),
        data: fc.jsonValue({ maxDepth: 3 }),
        Data: fc.jsonValue({ maxDepth: 3 }),
        wechatId: fc.oneof(fc.integer(), fc.string()),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), callbackLike, fc.anything()), (body) => {
        const result = receiver.read(body);
        expect([200, 400]).toContain(result.status);
        expect(result.body).toBeTypeOf('object');
      }),
      { numRuns: 300 },
    );
  });

  it('given arbitrary bytes POSTed (100 cases), when the receiver serves them, then it answers each with a status and keeps serving', async () => {
    const receiver = new YoumiCallbackReceiver({ callbacks: { pathSecret: 'bad-input-path-secret-0123456789' } });
    const { url } = await receiver.listen({ port: 0 });
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            fc.uint8Array({ maxLength: 256 }).map((bytes) => Buffer.from(bytes)),
            fc.jsonValue().map((value) => Buffer.from(JSON.stringify(value))),
          ),
          fc.constantFrom('application/json', 'application/x-www-form-urlencoded', 'text/plain'),
          async (body, contentType) => {
            const response = await withinTimeout(
              fetch(url, { method: 'POST', body, headers: { 'content-type': contentType } }),
              'callback POST',
            );
            await response.arrayBuffer();
            expect(
              response.status === 200 || (response.status >= 400 && response.status < 500),
              `status ${response.status}`,
            ).toBe(true);
          },
        ),
        { numRuns: 100 },
      );
    } finally {
      await receiver.close();
    }
  }, 120_000);
});
