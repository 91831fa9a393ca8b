// A provider SDK imported with its first call, not at start-up, and the options its client
// takes from a deployment's settings.
import type { AdapterSettings } from './adapter.js';

/**
 * An SDK imported with the first call that needs it, not at start-up: the two provider SDKs
 * were about a tenth of the API's start (bench/README.md, "startup"). Once loaded, `loaded()`
 * hands it over without an await, so a call starts in its own tick as before (an await puts a
 * call behind every microtask queued meanwhile: docs/llm.md). A failed import is tried again.
 */
export function loadedOnFirstCall<T>(load: () => Promise<T>) {
  let module: T | undefined;
  let loading: Promise<T> | undefined;
  return {
    loaded: (): T | undefined => module,
    load: (): Promise<T> =>
      (loading ??= load().then(
        (loadedModule) => (module = loadedModule),
        (error: unknown) => {
          loading = undefined;
          throw error;
        },
      )),
  };
}

/**
 * A deployment's client options, the same for both SDKs: a local server usually takes any key
 * (the SDKs insist on one), and the SDK's own retries are off (the router's loop is the one
 * retry loop).
 */
export function sdkClientOptions(settings: AdapterSettings) {
  return {
    apiKey: settings.apiKey ?? 'not-needed',
    baseURL: settings.baseUrl,
    timeout: 120_000,
    maxRetries: 0,
    fetch: settings.fetch,
  };
}
