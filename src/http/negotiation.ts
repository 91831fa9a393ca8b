// Which representation answers a GraphQL request on /graphql, by the GraphQL-over-HTTP spec's
// content negotiation: the Accept header's q-values, then its order, decide among what this
// operation can be sent as. A query or mutation is one result (JSON), or an event stream when
// the client prefers one; a subscription is a stream: graphql-sse's event stream or Apollo's
// multipart subscription (multipart/mixed;subscriptionSpec="1.0"). An operation with @defer or
// @stream is answered as the same operation without them would be, except that incremental
// delivery over HTTP (multipart/mixed: Apollo's deferSpec=20220824, urql's default Accept)
// takes the place of JSON where the client accepts it at least as much. A live query (`@live`)
// is a stream like a subscription whenever the client accepts one, whatever it prefers (JSON
// cannot carry its later results); else its first result as JSON.
// By hand (a few lines) because the usual library (negotiator) matches media type parameters
// exactly, and here a parameter names a dialect: `subscriptionSpec` is a subscription's,
// `deferSpec` incremental delivery's.

export type Representation = 'graphql-response+json' | 'json' | 'event-stream' | 'multipart';

/** 'incremental': a query or mutation with @defer or @stream; 'live': a query with @live. */
export type OperationKind = 'single' | 'incremental' | 'live' | 'subscription';

/** The kinds with offers of their own (the others are answered by theirs). */
type OfferedKind = Exclude<OperationKind, 'incremental' | 'live'>;

interface MediaRange {
  type: string;
  subtype: string;
  params: Map<string, string>;
  q: number;
}

const OFFERS: Record<
  OfferedKind,
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

/** The first offer of `kind` the ranges accept, with the q it was accepted at. */
function choose(
  ranges: readonly MediaRange[],
  kind: OfferedKind,
): { representation: Representation; q: number } | undefined {
  for (const range of ranges) {
    // Anything goes: GraphQL over HTTP's legacy default, application/json (or an event stream).
    if (range.type === '*')
      return { representation: kind === 'single' ? 'json' : 'event-stream', q: range.q };
    const offer = OFFERS[kind].find((candidate) => matches(range, candidate));
    if (offer) return { representation: offer.representation, q: range.q };
  }
  return undefined;
}

/** multipart/mixed as incremental delivery: named, not through a wildcard, and not a subscription's. */
const incrementalMultipart = (range: MediaRange) =>
  range.type === 'multipart' &&
  (range.subtype === 'mixed' || range.subtype === '*') &&
  !range.params.has('subscriptionspec');

/**
 * The representation to answer with, or undefined when the client accepts none of them
 * (406). No Accept header means application/json (GraphQL over HTTP, legacy clients).
 */
export function negotiate(accept: string | null, kind: OperationKind): Representation | undefined {
  if (kind === 'live') return negotiate(accept, 'subscription') ?? negotiate(accept, 'single');
  if (!accept?.trim()) return kind === 'subscription' ? 'event-stream' : 'json';
  const ranges = parseAccept(accept);
  if (kind !== 'incremental') return choose(ranges, kind)?.representation;
  // As a query would be: an event stream stays one (its events carry the payloads), so an
  // operation reaches the same transport with or without the directives.
  const single = choose(ranges, 'single');
  if (single?.representation === 'event-stream') return 'event-stream';
  const multipart = ranges.find(incrementalMultipart); // the most preferred one
  return multipart && multipart.q >= (single?.q ?? 0) ? 'multipart' : single?.representation;
}

/** Whether a request could be answered other than with JSON: only then is its operation looked at. */
export function mayStream(accept: string | null): boolean {
  return accept !== null && /event-stream|multipart\/|\*\/\*/i.test(accept);
}
