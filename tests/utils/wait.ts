// Waiting for an outcome that happens in the background (a worker, a stream). Bounded so
// a broken engine fails the test instead of hanging it; not a speed assertion.
export async function waitFor<T>(
  probe: () => Promise<T | undefined | null | false>,
  what: string,
  timeoutMs = 15_000,
  /** What the timeout's error should also say (the state that never came right). */
  explain?: () => Promise<string>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) {
      const state = explain ? `; ${await explain().catch((error) => String(error))}` : '';
      throw new Error(`timed out waiting for ${what}${state}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
