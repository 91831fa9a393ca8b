// One `presence` subscription of the presence benchmark: graphql-sse's distinct-connection
// mode (PROTOCOL.md: a POST whose response is the event stream), on a bare socket
// (openHttpStream), its `next` messages parsed as they arrive.
import { StringDecoder } from 'node:string_decoder';
import type { Socket } from 'node:net';
import { openHttpStream } from './tasks/raw-stream.js';

export interface PresencePayload {
  data?: { presence: { joined: string[]; left: string[] } } | null;
  errors?: unknown;
}

export function openPresenceStream(
  url: string,
  key: string,
  query: string,
  topic: string,
  onNext: (payload: PresencePayload, receivedAt: number) => void,
): Promise<Socket> {
  const decoder = new StringDecoder('utf8');
  let buffered = '';
  return openHttpStream(
    new URL(url),
    {
      method: 'POST',
      headers: {
        authorization: `Bearer ${key}`,
        accept: 'text/event-stream',
        'content-type': 'application/json; charset=utf-8',
      },
      body: JSON.stringify({ query, variables: { id: topic } }),
    },
    (bytes, receivedAt) => {
      buffered += decoder.write(bytes);
      let end: number;
      while ((end = buffered.indexOf('\n\n')) >= 0) {
        const message = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        if (!message.startsWith('event: next')) continue; // keep-alives, complete
        onNext(
          JSON.parse(message.slice(message.indexOf('data: ') + 6)) as PresencePayload,
          receivedAt,
        );
      }
    },
  );
}
