// Which representation answers a GraphQL request on /graphql, by the GraphQL-over-HTTP spec's
// content negotiation: the Accept header's q-values, then its order, decide among what this
// operation can be sent as. A query or mutation is one result (JSON), or an event stream when
// the client prefers one; a subscription is a stream: graphql-sse's event stream or Apollo's
// multipart subscription (multipart/mixed;subscriptionSpec="1.0"). A live query (`@live`) is
// a stream like a subscription whenever the client accepts one, whatever it prefers (JSON
// cannot carry its later results); else its first result as JSON.
// By hand (a few lines) because the usual library (negotiator) matches media type parameters
// exactly, and here a parameter names a dialect: `subscriptionSpec` is ours, Apollo's
// `deferSpec` (incremental delivery of queries) is not.

export type Representation = 'graphql-response+json' | 'json' | 'event-stream' | 'multipart';

export type OperationKind = 'single' | 'live' | 'subscription';

interface MediaRange {
  type: string;
  subtype: string;
  params: Map<string, string>;
  q: number;
}

const OFFERS: Record<
  Exclude<OperationKind, 'live'>,
  ReadonlyArray<{ type: string; subtype: string; representation: Representation }>
> = {
  single: [
    {
      type: 'application',
      subtype: 'graphql-response+json',
      representation: 'graphql-response+json',
    },
    { type: 'application', subtype: 'json', representation: 'json' },
    { type: 'text', subtype: 'event-stream', representation: 'event-stream' },
  ],
  subscription: [
    { type: 'text', subtype: 'event-stream', representation: 'event-stream' },
    { type: 'multipart', subtype: 'mixed', representation: 'multipart' },
  ],
};

/** The ranges of an Accept header, most preferred first (higher q, then earlier). */
export function parseAccept(header: string): MediaRange[] {
  const ranges: Array<MediaRange & { index: number }> = [];
  header.split(',').forEach((part, index) => {
    const [mediaType = '', ...rawParams] = part.split(';').map((piece) => piece.trim());
    const [type, subtype] = mediaType.toLowerCase().split('/');
    if (!type || !subtype) return;
    const params = new Map<string, string>();
    for (const param of rawParams) {
      const eq = param.indexOf('=');
      if (eq > 0)
        params.set(
          param.slice(0, eq).trim().toLowerCase(),
          param
            .slice(eq + 1)
            .trim()
            .replace(/^"(.*)"$/, '$1'),
        );
    }
    const q = params.has('q') ? Number(params.get('q')) : 1;
    ranges.push({ type, subtype, params, q: Number.isFinite(q) ? q : 0, index });
  });
  return ranges.filter((range) => range.q > 0).sort((a, b) => b.q - a.q || a.index - b.index);
}

function matches(range: MediaRange, offer: { type: string; subtype: string }): boolean {
  if (range.type !== '*' && range.type !== offer.type) return false;
  if (range.subtype !== '*' && range.subtype !== offer.subtype) return false;
  // multipart/mixed for incremental delivery of a query (Apollo's deferSpec) is not a subscription's.
  return !(offer.type === 'multipart' && range.params.has('deferspec'));
}

/**
 * The representation to answer with, or undefined when the client accepts none of them
 * (406). No Accept header means application/json (GraphQL over HTTP, legacy clients).
 */
export function negotiate(accept: string | null, kind: OperationKind): Representation | undefined {
  if (kind === 'live') return negotiate(accept, 'subscription') ?? negotiate(accept, 'single');
  if (!accept?.trim()) return kind === 'single' ? 'json' : 'event-stream';
  for (const range of parseAccept(accept)) {
    // Anything goes: the spec's legacy default, application/json (or an event stream).
    if (range.type === '*') return kind === 'single' ? 'json' : 'event-stream';
    const offer = OFFERS[kind].find((candidate) => matches(range, candidate));
    if (offer) return offer.representation;
  }
  return undefined;
}

/** Whether a request could be answered other than with JSON: only then is its operation looked at. */
export function mayStream(accept: string | null): boolean {
  return accept !== null && /event-stream|multipart\/|\*\/\*/i.test(accept);
}
