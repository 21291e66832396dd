/**
 * Embedding kefu in an HTTP app: a small CRM backend that lists agents, opens a session
 * and sends a message through whichever provider is configured, using only core's
 * capability interfaces (so the same routes work for any provider that declares them).
 *
 * Routes:
 *   GET  /agents                             → the agents, online state included
 *   POST /sessions  { customer, agent }      → opens a session (201)
 *   POST /messages  { customer, text, agent? } → sends a text message (202)
 *
 * Run it: `node examples/dist/src/embed-http-app.js` (after `pnpm build`): it starts the
 * emulator, the app, calls the three routes and prints what they answered.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { createKefu, hasCapability, isKefuError, type Kefu, silentLogger } from '@kefu/core';
import { startEmulator } from '@kefu/emulator';
import { plugin as wechatMp } from '@kefu/wechat-mp';
import { z } from 'zod';

const OpenSessionBody = z.object({ customer: z.string().min(1), agent: z.string().min(1) });
const SendMessageBody = z.object({
  customer: z.string().min(1),
  text: z.string().min(1),
  agent: z.string().optional(),
});

async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
}

function reply(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

/** The app's request handler over a composed kefu runtime and one provider id. */
export function createCrmHandler(kefu: Kefu, providerId: string) {
  const provider = kefu.provider(providerId);
  return async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    try {
      if (request.method === 'GET' && request.url === '/agents') {
        if (!hasCapability(provider, 'agents')) return reply(response, 501, { error: 'provider cannot list agents' });
        return reply(response, 200, { agents: await provider.listAgents() });
      }
      if (request.method === 'POST' && request.url === '/sessions') {
        if (!hasCapability(provider, 'sessions'))
          return reply(response, 501, { error: 'provider cannot open sessions' });
        const body = OpenSessionBody.parse(await readJson(request));
        await provider.openSession(body);
        return reply(response, 201, { session: await provider.getSession({ customer: body.customer }) });
      }
      if (request.method === 'POST' && request.url === '/messages') {
        if (!hasCapability(provider, 'messaging')) return reply(response, 501, { error: 'provider cannot send' });
        const body = SendMessageBody.parse(await readJson(request));
        await provider.sendMessage({
          customer: body.customer,
          message: { kind: 'text', text: body.text },
          ...(body.agent ? { agent: body.agent } : {}),
        });
        return reply(response, 202, { sent: true });
      }
      return reply(response, 404, { error: 'not found' });
    } catch (error) {
      // Platform errors are typed: answer with their code and fix, never a stack.
      if (isKefuError(error))
        return reply(response, 422, { error: error.code, message: error.message, fix: error.fix });
      if (error instanceof z.ZodError || error instanceof SyntaxError)
        return reply(response, 400, { error: String(error) });
      return reply(response, 500, { error: 'internal error' });
    }
  };
}

/** What the walkthrough saw. */
export interface EmbedWalkthrough {
  agents: Array<{ id: string; online?: boolean }>;
  sessionStatus: number;
  session: { customer: string; agent?: string };
  messageStatus: number;
  /** The app's answer to the message request. */
  messageAnswer: unknown;
}

/** Starts the emulator and the app, then lists agents, opens a session and sends a message. */
export async function main(): Promise<EmbedWalkthrough> {
  const emulator = await startEmulator({ seed: 'embed-example', wechat: { accounts: 1, days: 2, recordsPerDay: 200 } });
  const account = emulator.wechat.accounts[0]!;
  const kefu = await createKefu({
    providers: [{ use: wechatMp, id: 'wechat', config: { baseUrl: emulator.wechat.baseUrl, accounts: [account] } }],
    logger: silentLogger,
  });
  const server: Server = createServer(createCrmHandler(kefu, 'wechat'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const { agents } = (await (await fetch(`${base}/agents`)).json()) as EmbedWalkthrough;
    const agent = agents.find((candidate) => candidate.online)!;
    // A customer writes in (the emulator's control endpoint plays the customer): that opens
    // WeChat's 48 h window in which the account may answer.
    const now = new Date(emulator.clock.now());
    const customer = emulator.wechat
      .expectedRecords({ appId: account.appId, from: new Date(now.getTime() - 86_400_000), to: now })
      .find((record) => record.opercode === 2003)!.openid;
    await fetch(`${emulator.url}/__emulator/wechat/customer-message`, {
      method: 'POST',
      body: JSON.stringify({ appid: account.appId, openid: customer, text: '我的快递到哪了？' }),
    });

    const opened = await fetch(`${base}/sessions`, {
      method: 'POST',
      body: JSON.stringify({ customer, agent: agent.id }),
    });
    const { session } = (await opened.json()) as { session: EmbedWalkthrough['session'] };
    const sent = await fetch(`${base}/messages`, {
      method: 'POST',
      body: JSON.stringify({ customer, text: '您好，您的订单已发货 🚚', agent: agent.id }),
    });
    return {
      agents,
      sessionStatus: opened.status,
      session,
      messageStatus: sent.status,
      messageAnswer: await sent.json(),
    };
  } finally {
    server.close();
    await kefu.close();
    await emulator.stop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(JSON.stringify(await main(), null, 2));
}
