// A request refused before any operation ran (its key could not be looked up: PostgreSQL away),
// as the transports that answer it themselves send it: the status and headers the masked
// error asks for (503 with Retry-After), and the error without those hints.
import type { GraphQLError } from 'graphql';
import { maskError, maskErrorForStream } from '../schema/errors.js';

export interface Refusal {
  status: number;
  headers: Record<string, string>;
  errors: GraphQLError[];
}

export function refusalOf(error: unknown): Refusal {
  const masked = maskError(error) as GraphQLError;
  const http = masked.extensions?.http as
    { status?: number; headers?: Record<string, string> } | undefined;
  return {
    status: http?.status ?? 500,
    headers: http?.headers ?? {},
    errors: [maskErrorForStream(error)],
  };
}
