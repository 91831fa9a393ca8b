// `{{name}}` placeholders in template content ("변수 치환"). Pure functions: the
// variable list is parsed at create/update and stored; rendering substitutes in one pass.

// Letters of any script (templates are often Korean), digits, `_`, `.` and `-`; spaces
// inside the braces are allowed: `{{ topic }}`. Anything else in braces is left as text.
const PLACEHOLDER = /\{\{\s*([\p{L}_][\p{L}\p{N}_.-]*)\s*\}\}/gu;

/** The distinct variable names, in order of first appearance. */
export function parseVariables(content: string): string[] {
  return [...new Set(Array.from(content.matchAll(PLACEHOLDER), (match) => match[1]!))];
}

export interface Substitution {
  content: string;
  /** Placeholders without a value, distinct, in order of first appearance. */
  missing: string[];
  /** Variables the content uses whose value is not a string, number or boolean. */
  invalid: string[];
}

/**
 * One pass over the content: a value that itself contains `{{x}}` is inserted as text and
 * not substituted again. Only own properties count (`{{constructor}}` is not Object's).
 */
export function substituteVariables(
  content: string,
  values: Record<string, unknown>,
): Substitution {
  const missing = new Set<string>();
  const invalid = new Set<string>();
  const rendered = content.replace(PLACEHOLDER, (placeholder, name: string) => {
    if (!Object.hasOwn(values, name)) {
      missing.add(name);
      return placeholder;
    }
    const value = values[name];
    if (
      typeof value === 'string' ||
      typeof value === 'boolean' ||
      (typeof value === 'number' && Number.isFinite(value))
    )
      return String(value);
    invalid.add(name);
    return placeholder;
  });
  return { content: rendered, missing: [...missing], invalid: [...invalid] };
}
