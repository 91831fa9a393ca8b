// Why the process could not start, as one line that names the cause and what to do: no
// stack trace for a port in use, an unreachable PostgreSQL or Redis, or a data folder the
// embedded PostgreSQL cannot use. Anything else is a fault of ours and keeps its details.

/** A start-up failure already described for the operator. */
export class StartupError extends Error {}

/** A connection URL without its password. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparsable URL)';
  }
}

interface SystemError {
  code?: string;
  syscall?: string;
  address?: string;
  port?: number;
  message?: string;
}

/** The one line for a failure we recognise; undefined for a fault of ours. */
export function describeStartupFailure(error: unknown): string | undefined {
  if (error instanceof StartupError) return error.message;
  return describeListenFailure(error, 'PORT');
}

/** A failed listen() on the port `variable` sets: a StartupError when we recognise why. */
export function portFailure(error: unknown, variable: 'PORT' | 'WORKER_HTTP_PORT'): unknown {
  const line = describeListenFailure(error, variable);
  return line ? new StartupError(line) : error;
}

function describeListenFailure(error: unknown, variable: string): string | undefined {
  const { code, syscall, address, port } = (error ?? {}) as SystemError;
  if (syscall !== 'listen') return undefined;
  const where = `${address ?? 'the address'}:${port ?? '?'}`;
  if (code === 'EADDRINUSE')
    return `${where} is already in use by another process: stop it, or set ${variable} to a free port`;
  if (code === 'EACCES') return `not allowed to listen on ${where}: use a ${variable} above 1023`;
  if (code === 'EADDRNOTAVAIL')
    return `HOST ${address} is not an address of this machine: use 127.0.0.1, or 0.0.0.0 for every interface`;
  return undefined;
}
