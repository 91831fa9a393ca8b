// The LLM stub in its own process, for the overhead figures: a provider is another machine,
// and in the bench's process its CPU queued behind the calls it answers. Prints its base URL.
import { startLlmStub } from '../../tests/utils/llm-stub.js';

const stub = await startLlmStub();
stub.behave({ chunkSize: 20 });
console.log(`stub ${stub.openaiBaseUrl}`);
process.on('SIGTERM', () => void stub.close().then(() => process.exit(0)));
