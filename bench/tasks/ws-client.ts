// A minimal graphql-ws client (graphql-transport-ws over a raw WebSocket: handshake, masked
// text frames out, frames in decoded after the run), for the fan-out benchmark only, with
// many subscriptions per connection. Tests use graphql-ws's own client.
import { connect, type Socket } from 'node:net';
import { recordPiece, type Recording } from './raw-stream.js';
import type { StreamMessage } from './stream-client.js';

const COMPLETE = Buffer.from('"type":"complete"');

type MessageHandler = (message: StreamMessage, receivedAt: number) => void;

/** A client frame (RFC 6455 §5.2): masked, with a zero mask so the payload is unchanged. */
function controlFrame(opcode: number, payload: Buffer): Buffer {
  const n = payload.length;
  const header =
    n < 126
      ? Buffer.from([0x80 | opcode, 0x80 | n])
      : Buffer.from([0x80 | opcode, 0x80 | 126, n >> 8, n & 0xff]);
  return Buffer.concat([header, Buffer.alloc(4), payload]);
}

const frame = (text: string) => controlFrame(TEXT, Buffer.from(text));

type WsMessage = { id?: string; type: string; payload?: StreamMessage['payload'] };

/**
 * Server frames (unmasked) across reads, by their headers only: each whole frame's opcode and
 * payload (a view, no copy). Parsing the payloads is left to the caller.
 */
function frameWalker(onFrame: (opcode: number, payload: Buffer) => void): (bytes: Buffer) => void {
  let pending: Buffer = Buffer.alloc(0);
  return (bytes) => {
    pending = pending.length ? Buffer.concat([pending, bytes]) : bytes;
    for (;;) {
      if (pending.length < 2) return;
      let length = pending[1]! & 0x7f;
      let offset = 2;
      if (length === 126)
        [length, offset] = pending.length < 4 ? [Infinity, 4] : [pending.readUInt16BE(2), 4];
      else if (length === 127)
        [length, offset] =
          pending.length < 10 ? [Infinity, 10] : [Number(pending.readBigUInt64BE(2)), 10];
      if (pending.length < offset + length) return;
      const opcode = pending[0]! & 0x0f;
      const payload = pending.subarray(offset, offset + length);
      pending = pending.subarray(offset + length);
      onFrame(opcode, payload);
    }
  };
}

const PING = 0x9;
const EMPTY_PING = Buffer.from([0x89, 0x00]);
const TEXT = 0x1;

function handshake(url: URL): Promise<{ socket: Socket; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: url.hostname, port: Number(url.port) });
    socket.setNoDelay(true);
    socket.on('error', reject);
    socket.write(
      [
        `GET ${url.pathname} HTTP/1.1`,
        `Host: ${url.host}`,
        'Upgrade: websocket',
        'Connection: Upgrade',
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
        'Sec-WebSocket-Version: 13',
        'Sec-WebSocket-Protocol: graphql-transport-ws',
        '',
        '',
      ].join('\r\n'),
    );
    let head = Buffer.alloc(0);
    const onData = (bytes: Buffer) => {
      head = Buffer.concat([head, bytes]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      if (!head.toString('latin1', 0, end).startsWith('HTTP/1.1 101'))
        return reject(new Error(`handshake: ${head.toString('latin1', 0, end)}`));
      resolve({ socket, rest: head.subarray(end + 4) });
    };
    socket.on('data', onData);
  });
}

export async function openWs(address: string, key: string, onMessage: MessageHandler) {
  const url = new URL(address.replace(/^http/, 'ws').replace(/\/graphql\/stream$/, '/graphql'));
  const { socket, rest } = await handshake(url);
  let acked: () => void = () => {};
  const ack = new Promise<void>((resolve) => (acked = resolve));
  const handle = (message: WsMessage, receivedAt: number) => {
    if (message.type === 'connection_ack') acked();
    else if (message.type === 'next')
      onMessage({ event: 'next', id: message.id!, payload: message.payload }, receivedAt);
    else if (message.type === 'complete')
      onMessage({ event: 'complete', id: message.id! }, receivedAt);
  };
  // While recording, reads are kept as they came (framed and parsed after the run) and
  // completions counted in the bytes, as the graphql-sse client does. Server pings are
  // answered at once either way (the server drops a peer that does not): an empty ping frame
  // is 0x89 0x00, which JSON text never contains.
  let recording: Recording | undefined;
  let replaying = false;
  let lastByte: Buffer = Buffer.alloc(0);
  let receivedAt = 0;
  const walk = frameWalker((opcode, payload) => {
    if (opcode === PING && !replaying) return void socket.write(controlFrame(0xa, payload));
    if (opcode === TEXT) handle(JSON.parse(payload.toString('utf8')) as WsMessage, receivedAt);
  });
  socket.on('data', (bytes: Buffer) => {
    receivedAt = Date.now();
    if (!recording) return walk(bytes);
    recordPiece(recording, bytes, receivedAt);
    if (bytes.includes(EMPTY_PING) || (lastByte[0] === EMPTY_PING[0] && bytes[0] === 0))
      socket.write(controlFrame(0xa, Buffer.alloc(0)));
    lastByte = bytes.subarray(-1);
  });
  if (rest.length) walk(rest);
  socket.write(
    frame(JSON.stringify({ type: 'connection_init', payload: { Authorization: `Bearer ${key}` } })),
  );
  await ack;
  return {
    async subscribe(id: string, query: string, variables: Record<string, unknown>) {
      socket.write(frame(JSON.stringify({ id, type: 'subscribe', payload: { query, variables } })));
    },
    record(onComplete: () => void) {
      recording = { pieces: [], carry: Buffer.alloc(0), onComplete, marker: COMPLETE };
    },
    replay() {
      const pieces = recording?.pieces ?? [];
      recording = undefined;
      replaying = true;
      for (const [at, bytes] of pieces) {
        receivedAt = at;
        walk(bytes);
      }
      replaying = false;
    },
    close() {
      socket.resetAndDestroy();
    },
  };
}
