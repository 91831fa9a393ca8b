// A real local HTTP server speaking the LLM APIs our providers use, streamed as the
// vendors do: OpenAI's chat completions (`data: {"choices":[{"delta":{"content":…}}]}`
// lines, then `data: [DONE]`) and Anthropic's messages (typed `event:` + `data:` pairs).
// Tests steer what it answers (text, chunking, delays, HTTP errors with Retry-After, a
// stream cut midway, usage or none) and read what it got (headers, Authorization included).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface StubRequest {
  api: 'openai' | 'anthropic';
  path: string;
  headers: IncomingMessage['headers'];
  body: any;
  /** The system prompt and the user's message, whichever API. */
  system: string;
  user: string;
  /** The tokens the stub reported for it (Anthropic always; OpenAI when stream_options.include_usage). */
  usage?: { input: number; output: number };
}

export interface StubBehaviour {
  /** The whole reply to a request; streamed in `chunkSize` pieces. */
  reply: (request: StubRequest) => string;
  chunkSize: number;
  /** Before the response headers (a slow model: makes the planner miss its budget). */
  headersDelayMs: number;
  /** Between streamed chunks. */
  chunkDelayMs: number;
  /** Answer with this HTTP error instead (the vendor's error JSON). */
  fail?: {
    status: number;
    message: string;
    /** Sent as the Retry-After header. */
    retryAfter?: string;
    /** Only the next n requests fail (then the stub answers again); unset: every one. */
    times?: number;
    /** A careless provider: the message repeats the Authorization it received. */
    echoAuthorization?: boolean;
  };
  /** Destroy the connection after this many text chunks (a stream cut midway). */
  cutAfterChunks?: number;
  /** The usage the stream reports: `none` leaves it out; unset: counted from the text. */
  usage?: 'none' | { input: number; output: number };
}

export interface LlmStub {
  /** The base URL for the SDKs (OpenAI: …/v1; Anthropic: the origin). */
  openaiBaseUrl: string;
  anthropicBaseUrl: string;
  readonly requests: StubRequest[];
  /** Requests that got text (not refused by `fail`). */
  answered(): number;
  behave(changes: Partial<StubBehaviour>): void;
  reset(): void;
  close(): Promise<void>;
}

/** LLM_* as an operator sets them for this stub (the `env` deployment): the reports' settings. */
export const stubProvider = (stub: Pick<LlmStub, 'openaiBaseUrl'>) => ({
  provider: 'OPENAI_COMPATIBLE' as const,
  baseUrl: stub.openaiBaseUrl,
  apiKey: 'sk-stub',
  model: 'stub-model',
});

/** A plan for a plan request, numbered paragraphs for a section request. */
export function defaultReply(request: StubRequest): string {
  if (request.system.includes('You plan reports')) {
    return [
      '# Stub plan',
      '',
      '## 1. Stub opening',
      'What the stub opens with.',
      '',
      '## 2. Stub middle',
      'The middle.',
      '',
      '## 3. Stub ending',
      'How it ends.',
      '',
    ].join('\n');
  }
  const title = /Write section (\d+) of (\d+): (.+)/.exec(request.user);
  return `STUB-SECTION-${title?.[1]}-OF-${title?.[2]} streamed text about ${title?.[3]}.\n\nA second paragraph, also streamed.`;
}

const DEFAULTS: StubBehaviour = {
  reply: defaultReply,
  chunkSize: 7,
  headersDelayMs: 0,
  chunkDelayMs: 0,
};

function pieces(text: string, size: number): string[] {
  const chars = [...text];
  const out: string[] = [];
  for (let i = 0; i < chars.length; i += size) out.push(chars.slice(i, i + size).join(''));
  return out;
}

async function readBody(req: IncomingMessage): Promise<any> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content))
    return content.map((part) => (typeof part === 'string' ? part : (part?.text ?? ''))).join('');
  return '';
}

export async function startLlmStub(): Promise<LlmStub> {
  let behaviour: StubBehaviour = { ...DEFAULTS };
  const requests: StubRequest[] = [];
  let answered = 0;

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const path = new URL(req.url ?? '/', 'http://stub').pathname;
    const api = path.endsWith('/chat/completions')
      ? 'openai'
      : path.endsWith('/messages')
        ? 'anthropic'
        : undefined;
    if (req.method !== 'POST' || !api) {
      res
        .writeHead(404, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: { message: 'not found' } }));
      return;
    }
    const body = await readBody(req);
    const messages: Array<{ role: string; content: unknown }> = body.messages ?? [];
    const system =
      api === 'openai'
        ? textOf(messages.find((m) => m.role === 'system')?.content)
        : textOf(body.system);
    const user = textOf(messages.filter((m) => m.role === 'user').at(-1)?.content);
    const request: StubRequest = { api, path, headers: req.headers, body, system, user };
    requests.push(request);
    const current = behaviour;
    if (current.headersDelayMs) await sleep(current.headersDelayMs);
    if (res.destroyed) return;
    const fail = current.fail;
    if (fail && (fail.times === undefined || fail.times > 0)) {
      if (fail.times !== undefined) fail.times -= 1;
      const said = `${req.headers.authorization ?? ''} ${req.headers['x-api-key'] ?? ''}`.trim();
      const message = fail.echoAuthorization ? `${fail.message} (got ${said})` : fail.message;
      const error =
        api === 'openai'
          ? { error: { message, type: 'invalid_request_error', code: null } }
          : { type: 'error', error: { type: 'invalid_request_error', message } };
      res
        .writeHead(fail.status, {
          'content-type': 'application/json',
          ...(fail.retryAfter ? { 'retry-after': fail.retryAfter } : {}),
        })
        .end(JSON.stringify(error));
      return;
    }
    answered += 1;
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    const send = (event: string | null, data: unknown) =>
      res.write(
        `${event ? `event: ${event}\n` : ''}data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`,
      );
    const parts = pieces(current.reply(request), current.chunkSize);
    // Made-up but deterministic counts: a token per 4 characters in, one per streamed piece out.
    const usage =
      typeof current.usage === 'object'
        ? current.usage
        : { input: Math.ceil((system.length + user.length) / 4), output: parts.length };
    const reportUsage = current.usage !== 'none';
    let sent = 0;
    // What was written reaches the client first (its 200 and chunks), then the connection drops.
    const cut = async () => {
      if (current.cutAfterChunks === undefined || ++sent <= current.cutAfterChunks) return false;
      await new Promise((resolve) => res.write('', resolve));
      await sleep(20);
      res.destroy();
      return true;
    };
    if (api === 'openai') {
      const base = {
        id: 'chatcmpl-stub',
        object: 'chat.completion.chunk',
        created: Math.floor(Date.now() / 1000),
        model: body.model,
      };
      send(null, {
        ...base,
        choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }],
      });
      for (const part of parts) {
        if (res.destroyed || (await cut())) return;
        send(null, {
          ...base,
          choices: [{ index: 0, delta: { content: part }, finish_reason: null }],
        });
        if (current.chunkDelayMs) await sleep(current.chunkDelayMs);
      }
      send(null, { ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] });
      if (body.stream_options?.include_usage && reportUsage) {
        request.usage = usage;
        const counts = { prompt_tokens: usage.input, completion_tokens: usage.output };
        send(null, {
          ...base,
          choices: [],
          usage: { ...counts, total_tokens: usage.input + usage.output },
        });
      }
      send(null, '[DONE]');
    } else {
      send('message_start', {
        type: 'message_start',
        message: {
          id: 'msg_stub',
          type: 'message',
          role: 'assistant',
          model: body.model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { input_tokens: reportUsage ? usage.input : 0, output_tokens: 0 },
        },
      });
      send('content_block_start', {
        type: 'content_block_start',
        index: 0,
        content_block: { type: 'text', text: '' },
      });
      for (const part of parts) {
        if (res.destroyed || (await cut())) return;
        send('content_block_delta', {
          type: 'content_block_delta',
          index: 0,
          delta: { type: 'text_delta', text: part },
        });
        if (current.chunkDelayMs) await sleep(current.chunkDelayMs);
      }
      send('content_block_stop', { type: 'content_block_stop', index: 0 });
      send('message_delta', {
        type: 'message_delta',
        delta: { stop_reason: 'end_turn', stop_sequence: null },
        usage: { output_tokens: reportUsage ? usage.output : 0 },
      });
      if (reportUsage) request.usage = usage;
      send('message_stop', { type: 'message_stop' });
    }
    res.end();
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: String(error) } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    openaiBaseUrl: `${origin}/v1`,
    anthropicBaseUrl: origin,
    requests,
    answered: () => answered,
    behave(changes) {
      behaviour = { ...behaviour, ...changes };
    },
    reset() {
      behaviour = { ...DEFAULTS };
      requests.length = 0;
      answered = 0;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
