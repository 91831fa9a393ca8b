// What an answer says of the cache: `extensions.responseCache` keeps `hit` (and, on a miss,
// whether it was kept and for how long); a mutation's list of what it dropped is internal.
import type { ExecutionResult } from 'graphql';

interface CacheExtension {
  hit?: boolean;
  didCache?: boolean;
  ttl?: number;
  invalidatedEntities?: unknown;
}

/**
 * HIT or MISS for a cached query's answer, undefined for anything else; trims the extension.
 * `kept`: whether the store kept a miss's answer (the plugin says it did as soon as it asked:
 * with Redis away, or a change during the request, nothing is).
 */
export function reportOutcome(
  kind: 'cache' | 'mutation' | 'skip',
  result: ExecutionResult,
  setResult: (result: ExecutionResult) => void,
  kept: boolean,
): 'HIT' | 'MISS' | undefined {
  const { responseCache, ...others } = (result.extensions ?? {}) as {
    responseCache?: CacheExtension;
  };
  if (kind !== 'cache') {
    if (responseCache)
      setResult({ ...result, extensions: Object.keys(others).length ? others : undefined });
    return undefined;
  }
  const hit = responseCache?.hit === true;
  const shown = hit
    ? { hit }
    : { hit, didCache: kept && responseCache?.didCache === true, ttl: responseCache?.ttl };
  setResult({ ...result, extensions: { ...others, responseCache: shown } });
  return hit ? 'HIT' : 'MISS';
}
