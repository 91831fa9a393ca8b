// The subscriber side of h2-floor.ts: SUBSCRIPTIONS multipart streams over HTTP/2 (h2c),
// PER_CLIENT per connection; records when each part arrives. Prints "subscribed" once every
// stream has its first part, then, after the last tick, one line of JSON: how many parts
// arrived and the p50 / p99 / max of receive time minus the publish time each part carries.
import http2 from 'node:http2';

const url = process.env.URL!;
const subscriptions = Number(process.env.SUBSCRIPTIONS);
const perClient = Number(process.env.PER_CLIENT ?? 100);
const ticks = Number(process.env.TICKS);
const latencies: number[] = [];
let opened = 0;
let ended = 0;

function onPart(chunk: string): void {
  const receivedAt = Date.now();
  for (const match of chunk.matchAll(/"publishedAt":(\d+)/g))
    latencies.push(receivedAt - Number(match[1]));
}

for (let c = 0; c < Math.ceil(subscriptions / perClient); c++) {
  const session = http2.connect(url);
  for (let i = 0; i < perClient && c * perClient + i < subscriptions; i++) {
    const stream = session.request({
      ':method': 'POST',
      ':path': '/graphql',
      accept: 'multipart/mixed;subscriptionSpec="1.0"',
    });
    stream.end();
    stream.setEncoding('utf8');
    let first = true;
    stream.on('data', (chunk: string) => {
      if (first) {
        first = false;
        if (++opened === subscriptions) console.log('subscribed');
        return;
      }
      onPart(chunk);
    });
    stream.on('end', () => {
      if (++ended === subscriptions) {
        latencies.sort((a, b) => a - b);
        const at = (p: number) =>
          latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? Number.NaN;
        const summary = {
          received: latencies.length,
          expected: subscriptions * ticks,
          p50: at(0.5),
          p99: at(0.99),
          max: latencies.at(-1),
        };
        // Exit once the line is written (a pipe is asynchronous).
        process.stdout.write(`${JSON.stringify(summary)}\n`, () => process.exit(0));
      }
    });
  }
}
