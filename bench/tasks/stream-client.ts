// A minimal client for graphql-sse's single-connection mode (PROTOCOL.md: PUT reserves a
// stream and returns its token, GET opens it, POST adds operations with an operationId),
// for the fan-out benchmark only: graphql-sse's own client spends ~25 µs per message in
// the subscriber process (fetch body streams, its parser), which at 1,000 subscriptions in
// one process outweighs the server being measured. Tests use graphql-sse's client.
import { Agent, request, type IncomingMessage } from 'node:http';
import { StringDecoder } from 'node:string_decoder';
import { openHttpStream, recordPiece, type Recording } from './raw-stream.js';

export interface StreamMessage {
  event: 'next' | 'complete';
  id: string;
  payload?: { data?: unknown; errors?: unknown[] };
}

function call(
  agent: Agent,
  url: URL,
  method: string,
  headers: Record<string, string>,
  body?: string,
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = request(
      { agent, host: url.hostname, port: url.port, path: url.pathname, method, headers },
      resolve,
    );
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

const COMPLETE = Buffer.from('event: complete');

/** Reserves a single-connection stream (PUT); returns its token. */
async function reserveStream(
  agent: Agent,
  url: URL,
  auth: Record<string, string>,
): Promise<string> {
  const reservation = await call(agent, url, 'PUT', auth);
  const token = await text(reservation);
  if (reservation.statusCode !== 201)
    throw new Error(`reservation: HTTP ${reservation.statusCode} ${token}`);
  return token;
}

type MessageHandler = (message: StreamMessage, receivedAt: number) => void;

/** An incremental event-stream parser: hands each complete message to `onMessage`. */
function messageParser(onMessage: MessageHandler): (bytes: Buffer, receivedAt: number) => void {
  const decoder = new StringDecoder('utf8');
  let buffered = '';
  return (bytes, receivedAt) => {
    buffered += decoder.write(bytes);
    let end: number;
    while ((end = buffered.indexOf('\n\n')) >= 0) {
      const message = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      if (message.startsWith(':')) continue; // keep-alive
      const event = message.slice(message.indexOf('event: ') + 7, message.indexOf('\n'));
      const data = JSON.parse(message.slice(message.indexOf('data: ') + 6)) as {
        id: string;
        payload?: StreamMessage['payload'];
      };
      onMessage(
        { event: event as StreamMessage['event'], id: data.id, payload: data.payload },
        receivedAt,
      );
    }
  };
}

export async function openStream(address: string, key: string, onMessage: MessageHandler) {
  const url = new URL(address);
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  const auth = { authorization: `Bearer ${key}` };
  const token = await reserveStream(agent, url, auth);
  const headers = { ...auth, 'x-graphql-event-stream-token': token };
  const parse = messageParser(onMessage);
  // Recording: body bytes are kept with their arrival time and parsed later, so that
  // parsing the messages of thousands of subscriptions in this one process does not delay
  // the arrival of the next read (each real subscriber would parse only its own messages).
  let recording: Recording | undefined;
  const stream = await openHttpStream(
    url,
    { method: 'GET', headers: { ...headers, accept: 'text/event-stream' } },
    (bytes, receivedAt) => {
      if (!recording) return parse(bytes, receivedAt);
      recordPiece(recording, bytes, receivedAt);
    },
  );
  return {
    async subscribe(operationId: string, query: string, variables: Record<string, unknown>) {
      const body = JSON.stringify({ query, variables, extensions: { operationId } });
      const res = await call(
        agent,
        url,
        'POST',
        { ...headers, 'content-type': 'application/json; charset=utf-8' },
        body,
      );
      const answer = await text(res);
      if (res.statusCode !== 202) throw new Error(`subscribe: HTTP ${res.statusCode} ${answer}`);
    },
    /** From now on keep the body unparsed; `onComplete` is called per completed operation. */
    record(onComplete: () => void) {
      recording = { pieces: [], carry: Buffer.alloc(0), onComplete, marker: COMPLETE };
    },
    /** Parses what was recorded, each message with the arrival time of its last read. */
    replay() {
      const pieces = recording?.pieces ?? [];
      recording = undefined;
      for (const [receivedAt, bytes] of pieces) parse(bytes, receivedAt);
    },
    close() {
      stream.destroy();
      agent.destroy();
    },
  };
}
