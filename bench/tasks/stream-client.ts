// A minimal client for graphql-sse's single-connection mode (PROTOCOL.md: PUT reserves a
// stream and returns its token, GET opens it, POST adds operations with an operationId),
// for the fan-out benchmark only: graphql-sse's own client spends ~25 µs per message in
// the subscriber process (fetch body streams, its parser), which at 1,000 subscriptions in
// one process outweighs the server being measured. Tests use graphql-sse's client.
import { Agent, request, type IncomingMessage } from 'node:http';

export interface StreamMessage {
  event: 'next' | 'complete';
  id: string;
  payload?: { data?: unknown; errors?: unknown[] };
}

function call(agent: Agent, url: URL, method: string, headers: Record<string, string>, body?: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = request({ agent, host: url.hostname, port: url.port, path: url.pathname, method, headers }, resolve);
    req.on('error', reject);
    req.end(body);
  });
}

async function text(res: IncomingMessage): Promise<string> {
  let body = '';
  res.setEncoding('utf8');
  for await (const chunk of res) body += chunk;
  return body;
}

export async function openStream(address: string, key: string, onMessage: (message: StreamMessage) => void) {
  const url = new URL(address);
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  const auth = { authorization: `Bearer ${key}` };
  const reservation = await call(agent, url, 'PUT', auth);
  const token = await text(reservation);
  if (reservation.statusCode !== 201) throw new Error(`reservation: HTTP ${reservation.statusCode} ${token}`);
  const headers = { ...auth, 'x-graphql-event-stream-token': token };
  const stream = await call(agent, url, 'GET', { ...headers, accept: 'text/event-stream' });
  if (stream.statusCode !== 200) throw new Error(`stream: HTTP ${stream.statusCode}`);
  stream.setEncoding('utf8');
  let buffered = '';
  stream.on('data', (chunk: string) => {
    buffered += chunk;
    let end: number;
    while ((end = buffered.indexOf('\n\n')) >= 0) {
      const message = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      if (message.startsWith(':')) continue; // keep-alive
      const event = message.slice(message.indexOf('event: ') + 7, message.indexOf('\n'));
      const data = JSON.parse(message.slice(message.indexOf('data: ') + 6)) as { id: string; payload?: StreamMessage['payload'] };
      onMessage({ event: event as StreamMessage['event'], id: data.id, payload: data.payload });
    }
  });
  return {
    async subscribe(operationId: string, query: string, variables: Record<string, unknown>) {
      const body = JSON.stringify({ query, variables, extensions: { operationId } });
      const res = await call(agent, url, 'POST', { ...headers, 'content-type': 'application/json; charset=utf-8' }, body);
      const answer = await text(res);
      if (res.statusCode !== 202) throw new Error(`subscribe: HTTP ${res.statusCode} ${answer}`);
    },
    close() {
      stream.destroy();
      agent.destroy();
    },
  };
}
