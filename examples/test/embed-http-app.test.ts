import { describe, expect, it } from 'vitest';
import { main } from '../src/embed-http-app.js';

describe('example: embedding kefu in an HTTP app', () => {
  it('lists agents, opens a session and sends a message through the WeChat provider', async () => {
    const walkthrough = await main();
    expect(walkthrough.agents.length).toBeGreaterThan(0);
    expect(walkthrough.agents.some((agent) => agent.online === false)).toBe(true);
    expect(walkthrough.sessionStatus).toBe(201);
    expect(walkthrough.agents.map((agent) => agent.id)).toContain(walkthrough.session.agent);
    expect(walkthrough.messageStatus, JSON.stringify(walkthrough.messageAnswer)).toBe(202);
  });
});
