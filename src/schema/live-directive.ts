// @live, the graphql-live-query convention's directive (its arguments and location as the
// library declares them), described as this API answers it (src/http/live-query).
import { GraphQLLiveDirective } from '@n1ru4l/graphql-live-query';
import { GraphQLDirective } from 'graphql';

const config = GraphQLLiveDirective.toConfig();

export const liveDirective = new GraphQLDirective({
  ...config,
  description:
    'Answers the query now and again, whole, whenever what it read changes (at most once per ' +
    '100 ms), for as long as the client stays: over graphql-sse, graphql-ws and multipart. A ' +
    'client that accepts only JSON gets the first result once. Queries only.',
  args: {
    if: { ...config.args.if, description: 'Live unless false.' },
    throttle: {
      ...config.args.throttle,
      description:
        'At least this many ms between two results, from 0 to 60000 (another value is ' +
        "BAD_USER_INPUT); never less than the server's 100.",
    },
  },
});
