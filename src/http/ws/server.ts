// graphql-ws on the API's port: a WebSocket upgrade of /graphql with the graphql-transport-ws
// subprotocol (what graphql-ws's client, Apollo's GraphQLWsLink and urql with graphql-ws
// speak). `ws` does the WebSocket handshake, control frames and limits; each connection is a
// WsConnection on the live core.
import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import { CloseCode, GRAPHQL_TRANSPORT_WS_PROTOCOL } from 'graphql-ws';
import { WebSocketServer, type WebSocket } from 'ws';
import type { LiveCore } from '../live/core.js';
import { clientAddress } from '../rate-limit/client-address.js';
import { WsConnection } from './connection.js';

/** A peer that does not answer a WebSocket ping within this long is gone: its connection is dropped. */
const HEARTBEAT_MS = 12_000;

export interface WsTransport {
  /** Serves graphql-ws upgrades of `path` on this server; other upgrades are refused. */
  attach(server: Server, path?: string): void;
  /** Closes every connection (1001, going away). */
  close(): void;
}

export function createWsTransport(live: LiveCore): WsTransport {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: live.maxBodyBytes,
    perMessageDeflate: false,
    // graphql-ws's PROTOCOL.md: only graphql-transport-ws; anything else is closed with 4406 below.
    handleProtocols: (protocols) =>
      protocols.has(GRAPHQL_TRANSPORT_WS_PROTOCOL) ? GRAPHQL_TRANSPORT_WS_PROTOCOL : false,
  });
  const alive = new WeakSet<WebSocket>();
  const heartbeat = setInterval(() => {
    for (const ws of wss.clients) {
      if (!alive.has(ws)) ws.terminate();
      else {
        alive.delete(ws);
        ws.ping();
      }
    }
  }, HEARTBEAT_MS).unref();

  const accept = (ws: WebSocket, socket: Socket, address: string) => {
    live.metrics.opened('ws');
    ws.once('close', () => live.metrics.closed('ws'));
    if (ws.protocol !== GRAPHQL_TRANSPORT_WS_PROTOCOL)
      return ws.close(CloseCode.SubprotocolNotAcceptable, 'Subprotocol not acceptable');
    alive.add(ws);
    ws.on('pong', () => alive.add(ws));
    new WsConnection(live, ws, socket, address);
  };
  return {
    attach(server, path = '/graphql') {
      server.on('upgrade', (request: IncomingMessage, socket: Socket, head: Buffer) => {
        if (new URL(request.url ?? '/', 'http://localhost').pathname !== path)
          return socket.destroy();
        const address = clientAddress(
          socket.remoteAddress,
          request.headers['x-forwarded-for'],
          live.rateLimits?.trustedProxyHops ?? 0,
        );
        wss.handleUpgrade(request, socket, head, (ws) => accept(ws, socket, address));
      });
    },
    close() {
      clearInterval(heartbeat);
      for (const ws of wss.clients) ws.close(1001, 'Going away');
      wss.close();
    },
  };
}
