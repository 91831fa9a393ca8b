// The client libraries as ClientUnderTest (client-scenario.ts): how a test drives each one,
// with nothing of the library changed.
import { gql, type ApolloClient } from '@apollo/client';
import type { Client as UrqlClient, CombinedError } from '@urql/core';
import { onEnd, pipe, subscribe } from 'wonka';
import type { ClientUnderTest } from './client-scenario.js';

const isMutation = (document: string) => /^\s*mutation\b/.test(document);

function urqlErrors(error: CombinedError | undefined): readonly unknown[] | undefined {
  if (!error) return undefined;
  return error.graphQLErrors.length ? error.graphQLErrors : [error.networkError ?? error];
}

export function urqlUnderTest(client: UrqlClient): ClientUnderTest {
  return {
    async request(document, variables = {}) {
      const result = isMutation(document)
        ? await client.mutation(document, variables).toPromise()
        : await client.query(document, variables, { requestPolicy: 'network-only' }).toPromise();
      return { data: result.data, errors: urqlErrors(result.error) };
    },
    subscribe(document, variables, onResult) {
      let last: string | undefined;
      return new Promise((resolve) => {
        pipe(
          client.subscription(document, variables),
          onEnd(() => resolve()),
          subscribe((result) => {
            // urql marks a subscription's end by repeating its last result with hasNext: false.
            const text = JSON.stringify([result.data, result.error?.message]);
            if (result.hasNext === false && text === last) return;
            last = text;
            onResult({ data: result.data, errors: urqlErrors(result.error) as never });
          }),
        );
      });
    },
  };
}

export function apolloUnderTest(client: ApolloClient): ClientUnderTest {
  return {
    async request(document, variables = {}) {
      const result = isMutation(document)
        ? await client.mutate({ mutation: gql(document), variables })
        : await client.query({ query: gql(document), variables, fetchPolicy: 'no-cache' });
      return { data: result.data, errors: result.error ? [result.error] : undefined };
    },
    subscribe(document, variables, onResult) {
      return new Promise((resolve, reject) => {
        client.subscribe({ query: gql(document), variables, fetchPolicy: 'no-cache' }).subscribe({
          next: (result) =>
            onResult({ data: result.data, errors: result.error ? [result.error] : undefined }),
          error: reject,
          complete: resolve,
        });
      });
    },
  };
}

/** graphql-sse's own client: every operation (mutations too) over the event stream. */
export function graphqlSseUnderTest(
  client: import('graphql-sse').Client<boolean>,
): ClientUnderTest {
  const run = (
    query: string,
    variables: Record<string, unknown>,
    onResult: (result: any) => void,
  ) =>
    new Promise<void>((resolve, reject) => {
      client.subscribe({ query, variables }, { next: onResult, error: reject, complete: resolve });
    });
  return {
    async request(document, variables = {}) {
      let last: any = {};
      await run(document, variables, (result) => (last = result));
      return last;
    },
    subscribe: (document, variables, onResult) => run(document, variables, onResult),
  };
}
