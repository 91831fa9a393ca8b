// A real local webhook receiver: records every request, answers with the status the test
// gives for it (default 200), and verifies Standard Webhooks signatures with the
// `standardwebhooks` library, as a receiver in production would.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import type { Harness } from './harness.js';

export interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  body: string;
  /** The parsed body. */
  json: any;
}

export interface WebhookReceiver {
  url: string;
  received: ReceivedWebhook[];
  /** The status for the request about to be answered (its index in `received`). */
  statusFor: (index: number, request: ReceivedWebhook) => number;
}

export async function webhookReceiver(
  h: Pick<Harness, 'onCleanup'>,
  statusFor: (index: number, request: ReceivedWebhook) => number = () => 200,
  /** Unset: any free port. */
  port = 0,
): Promise<WebhookReceiver> {
  const receiver: WebhookReceiver = { url: '', received: [], statusFor };
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      const request = { headers: req.headers, body, json: JSON.parse(body || 'null') };
      receiver.received.push(request);
      res.statusCode = receiver.statusFor(receiver.received.length - 1, request);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  h.onCleanup(() => new Promise<void>((resolve) => server.close(() => resolve())));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  return receiver;
}

/** The verified body, or the library's error: what a receiver holding `secret` would get. */
export function verifyWith(secret: string, request: ReceivedWebhook): unknown {
  return new Webhook(secret).verify(request.body, request.headers as Record<string, string>);
}

export const verifies = (secret: string, request: ReceivedWebhook): boolean => {
  try {
    verifyWith(secret, request);
    return true;
  } catch {
    return false;
  }
};
