// The frame of the JSON GET routes beside GraphQL (the routing snapshot, the metrics summary):
// 405 for another method, JSON bodies never cached, and PostgreSQL away answered as GraphQL
// answers it (503 with Retry-After).
import { refusalOf } from './refusal.js';

export type JsonAnswer = (
  body: unknown,
  status: number,
  headers?: Record<string, string>,
) => Response;

/** GraphQL-shaped error bodies for these routes. */
export const jsonError = (
  json: JsonAnswer,
  status: number,
  code: string,
  message: string,
  more: object = {},
) => json({ errors: [{ message, extensions: { code, ...more } }] }, status);

export async function serveJsonGet(
  request: Request,
  ResponseClass: typeof Response,
  answer: (json: JsonAnswer) => Promise<Response>,
): Promise<Response> {
  const json: JsonAnswer = (body, status, headers = {}) =>
    new ResponseClass(JSON.stringify(body), {
      status,
      headers: {
        'content-type': 'application/json; charset=utf-8',
        'cache-control': 'no-store',
        ...headers,
      },
    });
  if (request.method !== 'GET')
    return new ResponseClass(null, { status: 405, headers: { allow: 'GET' } });
  try {
    return await answer(json);
  } catch (cause) {
    const refusal = refusalOf(cause);
    return json({ errors: refusal.errors }, refusal.status, refusal.headers);
  }
}
