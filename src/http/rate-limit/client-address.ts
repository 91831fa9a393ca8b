// Whose address a request without a key is counted under: the socket's peer, or, behind
// TRUSTED_PROXY_HOPS proxies, the address the outermost trusted proxy saw (each proxy appends
// its peer to X-Forwarded-For, so the client is `hops` entries from the end).
export function clientAddress(
  socketAddress: string | undefined,
  forwardedFor: string | string[] | undefined,
  trustedProxyHops: number,
): string {
  const socket = socketAddress ?? 'unknown';
  if (!trustedProxyHops || !forwardedFor) return socket;
  const entries = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor)
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  if (!entries.length) return socket;
  return entries[Math.max(0, entries.length - trustedProxyHops)]!;
}
