// A provider that echoes the key it was sent (a secret never in a response): its
// answer streams on with the key replaced, even when the key is split across deltas. Only a
// text end that may begin the key is held back, so text streams as it came.
import { withoutSecret } from './attempt-outcome.js';

export class KeyEcho {
  /** The text's end that may be the start of the key, held until the next delta says. */
  private held = '';

  constructor(private readonly secret: string | undefined) {}

  /** What of the text so far the caller may see. */
  pass(delta: string): string {
    const secret = this.secret;
    if (!secret || secret.length < 4) return delta;
    const text = withoutSecret(this.held + delta, secret);
    const hold = heldLength(text, secret);
    this.held = text.slice(text.length - hold);
    return text.slice(0, text.length - hold);
  }

  /** The text held back when the stream ended: it was not the key. */
  rest(): string {
    const rest = this.held;
    this.held = '';
    return rest;
  }
}

/** How long an end of `text` is the start of `secret` (which `text` no longer contains). */
function heldLength(text: string, secret: string): number {
  // From the earliest place such an end could start: the longest one wins.
  let at = text.indexOf(secret[0]!, Math.max(0, text.length - secret.length + 1));
  while (at !== -1) {
    if (secret.startsWith(text.slice(at))) return text.length - at;
    at = text.indexOf(secret[0]!, at + 1);
  }
  return 0;
}
