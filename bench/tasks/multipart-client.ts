// A minimal client for Apollo's multipart subscriptions (one subscription per HTTP response:
// HTTP/1.1 has no multiplexing), for the fan-out benchmark only, read straight off the socket
// and recorded like stream-client.ts. Tests use Apollo Client.
import { StringDecoder } from 'node:string_decoder';
import type { Socket } from 'node:net';
import { openHttpStream, recordPiece, type Recording } from './raw-stream.js';
import type { StreamMessage } from './stream-client.js';

const ACCEPT = 'multipart/mixed;boundary=graphql;subscriptionSpec=1.0,application/json;q=0.9';
const DELIMITER = '\r\n--graphql';
const CLOSING = Buffer.from('--graphql--');

type MessageHandler = (message: StreamMessage, receivedAt: number) => void;
type Parser = (bytes: Buffer, receivedAt: number) => void;

/** One response's parts: each is whole once the next delimiter arrives; `--` after one closes it. */
function partParser(id: string, onMessage: MessageHandler): Parser {
  const decoder = new StringDecoder('utf8');
  let buffered = '';
  let ended = false;
  return (bytes, receivedAt) => {
    buffered += decoder.write(bytes);
    let at: number;
    while ((at = buffered.indexOf(DELIMITER)) >= 0) {
      const part = buffered.slice(0, at);
      buffered = buffered.slice(at + DELIMITER.length);
      const json = part.slice(part.indexOf('\r\n\r\n') + 4);
      if (!json) continue; // the preamble
      const parsed = JSON.parse(json) as { payload?: StreamMessage['payload'] };
      if (parsed.payload) onMessage({ event: 'next', id, payload: parsed.payload }, receivedAt);
    }
    if (!ended && buffered.startsWith('--')) {
      ended = true;
      onMessage({ event: 'complete', id }, receivedAt);
    }
  };
}

/** One subscription's response: parsed on arrival, or recorded (its own carry: markers straddle its reads only). */
interface Response {
  parse: Parser;
  recording?: Recording;
}

export function openMultipart(address: string, key: string, onMessage: MessageHandler) {
  const url = new URL(address);
  const sockets: Socket[] = [];
  const responses: Response[] = [];
  return {
    async subscribe(id: string, query: string, variables: Record<string, unknown>) {
      const response: Response = { parse: partParser(id, onMessage) };
      responses.push(response);
      const headers = {
        authorization: `Bearer ${key}`,
        'content-type': 'application/json',
        accept: ACCEPT,
      };
      const request = { method: 'POST', headers, body: JSON.stringify({ query, variables }) };
      sockets.push(
        await openHttpStream(url, request, (bytes, receivedAt) =>
          response.recording
            ? recordPiece(response.recording, bytes, receivedAt)
            : response.parse(bytes, receivedAt),
        ),
      );
    },
    record(onComplete: () => void) {
      for (const response of responses)
        response.recording = { pieces: [], carry: Buffer.alloc(0), onComplete, marker: CLOSING };
    },
    replay() {
      for (const response of responses) {
        const pieces = response.recording?.pieces ?? [];
        response.recording = undefined;
        for (const [receivedAt, bytes] of pieces) response.parse(bytes, receivedAt);
      }
    },
    close() {
      // A reset, not a close: thousands of sockets left in TIME_WAIT would use up the ports.
      for (const socket of sockets) socket.resetAndDestroy();
    },
  };
}
