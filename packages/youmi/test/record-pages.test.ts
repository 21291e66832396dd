import type { Checkpoint } from '@kefu/core';
import { afterEach, describe, expect, it } from 'vitest';
import { YoumiProvider } from '../src/youmi-provider.js';
import { envelope, type LoopbackServer, startLoopbackServer } from './support/loopback-server.js';

// A Youmi whose fan list changes between runs (the emulator's never does): a loopback fake.
const CHATS_PER_FAN = 5;
const BASE_SECOND = Date.UTC(2026, 10, 1) / 1000;
let server: LoopbackServer | undefined;
let provider: YoumiProvider | undefined;

afterEach(async () => {
  await provider?.close();
  await server?.close();
});

function chatsOf(fan: string, fanIndex: number) {
  return Array.from({ length: CHATS_PER_FAN }, (_, n) => {
    const second = BASE_SECOND + n * 60 + fanIndex;
    const time = new Date((second + 8 * 3600) * 1000).toISOString().slice(0, 19).replace('T', ' ');
    return {
      ad_chatting_id: 1000 + n * 100 + fanIndex,
      ad_chatting_talter: fan,
      ad_chatting_issend: n % 2,
      ad_chatting_resvred: null,
      ad_wechat_id: 10001,
      ad_chatting_sate: 1,
      ad_chatting_time: time,
      ad_chatting_content: `${fan}-${n}`,
    };
  });
}

async function fakeYoumi(fans: { list: string[] }) {
  const all = new Map(['A', 'B', 'C', 'D', 'X'].map((fan, index) => [fan, chatsOf(fan, index)]));
  server = await startLoopbackServer((request) => {
    if (request.path === '/connect/token') return { json: { access_token: 'tok-1', expires_in: 7200 } };
    const body = JSON.parse(request.body || '{}');
    if (request.path === '/v2/Friend/GetFansList') {
      const start = (body.pageIndex - 1) * body.pageSize;
      return { json: envelope(fans.list.slice(start, start + body.pageSize).map((fansKey) => ({ fansKey }))) };
    }
    if (request.path === '/v2/ChatMess/GetChat') {
      const chats = (all.get(body.fansKey) ?? []).filter((c) => c.ad_chatting_id > (body.minChattingId ?? 0));
      const size = Number(body.pageSize);
      const start = (Number(body.pageIndex) - 1) * size;
      return { json: envelope(chats.slice(start, start + size)) };
    }
    return { status: 404, raw: '' };
  });
  provider = new YoumiProvider(
    {
      baseUrl: server.url,
      tokenUrl: `${server.url}/connect/token`,
      clientId: 'c',
      clientSecret: 'secret-fake',
      wechatIds: [10001],
      pageSize: 2,
      fanPageSize: 2,
      fanConcurrency: 1,
    },
    { now: () => Date.UTC(2026, 10, 2) },
  );
  return provider;
}

const query = { account: '10001', from: Date.UTC(2026, 9, 31), to: Date.UTC(2026, 10, 2) };
const texts = (fan: string, from = 0) => Array.from({ length: CHATS_PER_FAN - from }, (_, n) => `${fan}-${n + from}`);

/** Reads until the first page of `fan` was delivered; returns the checkpoint after it. */
async function stopInside(source: YoumiProvider, fan: string): Promise<Checkpoint> {
  for await (const page of source.records(query).pages()) {
    if (page.records[0]?.customer === fan) return page.checkpoint;
  }
  throw new Error(`fan ${fan} never came`);
}

async function rest(source: YoumiProvider, resumeFrom: Checkpoint): Promise<string[]> {
  const texts: string[] = [];
  for await (const page of source.records({ ...query, resumeFrom }).pages()) {
    texts.push(...page.records.map((r) => r.text ?? ''));
  }
  return texts;
}

describe('resuming when the fan list changed', () => {
  it('finds the fan being read when fans were inserted before it', async () => {
    const fans = { list: ['A', 'B', 'C', 'D'] };
    const source = await fakeYoumi(fans);
    const checkpoint = await stopInside(source, 'C');
    expect(checkpoint.position).toMatchObject({ fan: 2, key: 'C', at: { q: 'q', page: 2 } });
    fans.list = ['X', 'A', 'B', 'C', 'D'];
    expect(await rest(source, checkpoint)).toEqual([...texts('C', 2), ...texts('D')]);
  });

  it('goes on with the fan now at that place when the fan being read left the list', async () => {
    const fans = { list: ['A', 'B', 'C', 'D'] };
    const source = await fakeYoumi(fans);
    const checkpoint = await stopInside(source, 'C');
    fans.list = ['A', 'B', 'D'];
    expect(await rest(source, checkpoint)).toEqual(texts('D'));
  });

  it('reads every fan in order when nothing changed, chats by id', async () => {
    const source = await fakeYoumi({ list: ['A', 'B', 'C', 'D'] });
    const checkpoint = await stopInside(source, 'A');
    expect(await rest(source, checkpoint)).toEqual([...texts('A', 2), ...texts('B'), ...texts('C'), ...texts('D')]);
  });
});
