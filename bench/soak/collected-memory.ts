// The API's memory after a full garbage collection, read through its inspector (Chrome
// DevTools Protocol over a WebSocket on loopback): RSS between V8's own collections saws by
// hundreds of MB with HEAP_GROWING_PERCENT=400, so a trend is only visible in what is left
// after a collection. The soak starts the API with --inspect on a free loopback port.
import WebSocket from 'ws';

export interface CollectedMemory {
  rssMb: number;
  heapUsedMb: number;
  /** V8's heap as reserved from the system (used or not): a step here is V8 sizing its heap. */
  heapTotalMb: number;
  /** Memory outside V8's heap that objects in it hold (Buffers, ArrayBuffers). */
  externalMb: number;
}

/** The inspector's WebSocket URL for the process listening on that port. */
async function debuggerUrl(port: number): Promise<string> {
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as Array<{
    webSocketDebuggerUrl: string;
  }>;
  return targets[0]!.webSocketDebuggerUrl;
}

export async function openInspector(port: number) {
  const socket = new WebSocket(await debuggerUrl(port));
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  let nextId = 1;
  const pending = new Map<number, (result: any) => void>();
  socket.on('message', (data) => {
    const message = JSON.parse(data.toString()) as { id?: number; result?: unknown };
    if (message.id !== undefined) pending.get(message.id)?.(message.result);
  });
  const call = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<any>((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      socket.send(JSON.stringify({ id, method, params }));
    });
  return {
    /** A full collection, then process.memoryUsage(). */
    async collectedMemory(): Promise<CollectedMemory> {
      await call('HeapProfiler.collectGarbage');
      const evaluated = await call('Runtime.evaluate', {
        expression: 'JSON.stringify(process.memoryUsage())',
        returnByValue: true,
      });
      const usage = JSON.parse(evaluated.result.value as string) as NodeJS.MemoryUsage;
      return {
        rssMb: usage.rss / 2 ** 20,
        heapUsedMb: usage.heapUsed / 2 ** 20,
        heapTotalMb: usage.heapTotal / 2 ** 20,
        externalMb: usage.external / 2 ** 20,
      };
    },
    close: () => socket.close(),
  };
}
