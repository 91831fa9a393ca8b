// A provider SDK imported with its first call, not at start-up.

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
