import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { TestApp, type TestBrand } from '../support/server';

/**
 * The graphql-transport-ws protocol at its edges, spoken by hand where a
 * well-behaved client would not, and by graphql-ws's own client where it would.
 */
describe('graphql-ws protocol', () => {
  let app: TestApp;
  let brand: TestBrand;
  let url: string;

  beforeAll(async () => {
    app = await TestApp.start({ ALLIED_WS_INIT_TIMEOUT_MS: '300', ALLIED_IDLE_TIMEOUT_MS: '250' });
    brand = await app.brand('Protocol Brand');
    url = app.server.url.replace(/^http/, 'ws');
  });
  afterAll(() => app.stop());

  /** A raw socket, its messages as they come, and its close code. */
  async function raw(options: WebSocket.ClientOptions = {}) {
    const socket = new WebSocket(url, 'graphql-transport-ws', options);
    const messages: { type: string; [k: string]: unknown }[] = [];
    socket.on('message', (m) => messages.push(JSON.parse(String(m))));
    const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.once('close', (code, reason) => resolve({ code, reason: String(reason) })));
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    const send = (message: object) => socket.send(JSON.stringify(message));
    const next = async (type: string) => {
      for (let i = 0; i < 100; i++) {
        const found = messages.find((m) => m.type === type);
        if (found) return found;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`no ${type} message; got ${JSON.stringify(messages)}`);
    };
    return { socket, messages, closed, send, next };
  }

  it('answers ping with pong, before and after connection_init', async () => {
    const client = await raw();
    client.send({ type: 'ping', payload: { at: 1 } });
    expect(await client.next('pong')).toEqual({ type: 'pong', payload: { at: 1 } });
    client.send({ type: 'connection_init', payload: { authorization: brand.token } });
    await client.next('connection_ack');
    client.messages.length = 0;
    client.send({ type: 'ping' });
    expect(await client.next('pong')).toEqual({ type: 'pong' });
    client.socket.close(1000);
  });

  it('closes 4408 when connection_init never comes', async () => {
    const client = await raw();
    expect(await client.closed).toEqual({ code: 4408, reason: 'Connection initialisation timeout' });
  });

  it('closes 4401 on a subscribe sent before connection_init, having run nothing', async () => {
    const client = await raw();
    client.send({ id: '1', type: 'subscribe', payload: { query: '{ courses { totalCount } }' } });
    expect(await client.closed).toEqual({ code: 4401, reason: 'Unauthorized' });
    expect(client.messages).toEqual([]);
  });

  it('closes 4429 on a second connection_init', async () => {
    const client = await raw();
    client.send({ type: 'connection_init', payload: { authorization: brand.token } });
    await client.next('connection_ack');
    client.send({ type: 'connection_init', payload: { authorization: brand.token } });
    expect((await client.closed).code).toBe(4429);
  });

  it('closes 4400 on a message that is not the protocol', async () => {
    const client = await raw();
    client.socket.send('{"type":"hello"');
    expect((await client.closed).code).toBe(4400);
  });

  it('drops a connection that stops answering the server pings', async () => {
    // ws answers pings by itself; this client does not.
    const client = await raw({ autoPong: false });
    client.send({ type: 'connection_init', payload: { authorization: brand.token } });
    await client.next('connection_ack');
    const started = Date.now();
    const { code } = await client.closed;
    // Terminated (1006: no close frame) after missing a ping, within a few heartbeats.
    expect(code).toBe(1006);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("keeps graphql-ws's own client connected across heartbeats, and counts its operations on /metrics", async () => {
    const client = createClient({ url, webSocketImpl: WebSocket, connectionParams: { authorization: brand.token }, keepAlive: 100, lazy: false });
    try {
      await new Promise((r) => setTimeout(r, 800));
      const result = await new Promise<any>((resolve, reject) => {
        let value: unknown;
        client.subscribe({ query: 'query OverTheSocket { courses { totalCount } }' }, { next: (v) => (value = v), error: reject, complete: () => resolve(value) });
      });
      expect(result).toEqual({ data: { courses: { totalCount: 0 } } });
      const metrics = (await app.http.get('/metrics')).text;
      expect(metrics).toMatch(/^allied_graphql_operations_total\{operation="OverTheSocket",type="query",transport="ws",outcome="ok"\} 1$/m);
      expect(metrics).toMatch(/^allied_websocket_connections [1-9]/m);
    } finally {
      await client.dispose();
    }
  });
});
