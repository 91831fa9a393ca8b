// Names and titles other people read (a team's name, an API key's, a topic's title): text that
// shows itself. A control character (a bell, an escape) or a bidirectional override or isolate
// (U+202A-U+202E, U+2066-U+2069) would make it read as something else, and a name of invisible
// characters only (zero-width spaces, U+2800, Hangul fillers) reads as nothing
// (https://www.unicode.org/reports/tr36/#Bidirectional_Text_Spoofing). Joiners between visible
// characters stay: emoji sequences and Persian text need them.

const CONTROL = /\p{Cc}/u;
const BIDI_CONTROL = /[\u202a-\u202e\u2066-\u2069]/u;
const INVISIBLE = /[\p{Cf}\p{Default_Ignorable_Code_Point}\p{White_Space}\u2800]/gu;

/** Why `text` cannot be shown as a name, if it cannot: a problem to put after its field's name. */
export function displayTextProblem(text: string): string | undefined {
  if (CONTROL.test(text)) return 'must not contain a control character';
  if (BIDI_CONTROL.test(text)) return 'must not contain a bidirectional override or isolate';
  if (!text.replace(INVISIBLE, '')) return 'must contain a visible character';
  return undefined;
}
