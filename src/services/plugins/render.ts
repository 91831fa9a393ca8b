// A plugin's templates rendered with the existing template renderer's `{{name}}` placeholders
// (src/services/templates/variables.ts): the values are flattened to dotted names
// (`event.topic.title`), and only what the plugin was granted is among them, so nothing else
// can appear. A JSON body is rendered string by string and serialised again, so a value
// cannot break out of its string; a URL's values are percent-encoded, except one that starts
// it (a whole URL kept in a secret); header values lose line breaks.
import { parseVariables, substituteVariables } from '../templates/variables.js';
import { EVENT_FIELDS, TOPIC_MARKDOWN } from './event-fields.js';
import type { Grants } from './scopes.js';
import type { WebhookEventType } from '../webhooks/event-types.js';

export type Variables = Record<string, string>;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** `{a: {b: 1}, c: [1]}` under `prefix` → `{'prefix.a.b': '1', 'prefix.c': '[1]'}`. */
export function flatten(prefix: string, value: unknown, into: Variables = {}): Variables {
  if (isObject(value)) {
    for (const [key, each] of Object.entries(value)) flatten(`${prefix}.${key}`, each, into);
    into[prefix] ??= JSON.stringify(value);
  } else if (Array.isArray(value)) into[prefix] = JSON.stringify(value);
  else if (value === null || value === undefined) into[prefix] = '';
  else into[prefix] = String(value);
  return into;
}

export interface EventToRender {
  type: string;
  timestamp: string;
  data: Record<string, unknown>;
}

/** `event.*` of a granted event: the envelope and the type's fields (its topic's Markdown only when granted). */
export function eventVariables(event: EventToRender, grants: Grants): Variables {
  if (!grants.events.has(event.type)) return {};
  const fields = EVENT_FIELDS[event.type as WebhookEventType] ?? [];
  const { type: taskType, ...data } = event.data;
  const source: Record<string, unknown> = { ...data, taskType };
  const values: Variables = { 'event.type': event.type, 'event.timestamp': event.timestamp };
  for (const field of fields) {
    if (field === TOPIC_MARKDOWN && !grants.topicMarkdown) continue;
    const value = field
      .split('.')
      .reduce<unknown>((at, key) => (isObject(at) ? at[key] : undefined), source);
    if (value !== undefined) flatten(`event.${field}`, value, values);
  }
  return values;
}

/** `secrets.NAME` of the granted secrets it holds. */
export function secretVariables(secrets: ReadonlyMap<string, string>, grants: Grants): Variables {
  const values: Variables = {};
  for (const [name, value] of secrets)
    if (grants.secrets.has(name)) values[`secrets.${name}`] = value;
  return values;
}

/** Text with every placeholder replaced: an unknown or absent value is empty. */
export function renderText(template: string, values: Variables, encode = (v: string) => v): string {
  const filled: Variables = {};
  for (const name of parseVariables(template))
    filled[name] = encode(Object.hasOwn(values, name) ? values[name]! : '');
  return substituteVariables(template, filled).content;
}

function renderJsonValue(value: unknown, values: Variables): unknown {
  if (typeof value === 'string') return renderText(value, values);
  if (Array.isArray(value)) return value.map((each) => renderJsonValue(each, values));
  if (isObject(value))
    return Object.fromEntries(
      Object.entries(value).map(([key, each]) => [key, renderJsonValue(each, values)]),
    );
  return value;
}

/** The body's JSON text: each string in it rendered, then serialised (values stay inside their strings). */
export const renderJsonBody = (body: unknown, values: Variables): string =>
  JSON.stringify(renderJsonValue(body, values));

const LEADING = /^\{\{\s*[\p{L}_][\p{L}\p{N}_.-]*\s*\}\}/u;

/** The URL's text: a placeholder that starts it as is (a whole URL), every other one percent-encoded. */
export function renderUrl(template: string, values: Variables): string {
  const leading = LEADING.exec(template)?.[0] ?? '';
  return (
    renderText(leading, values) +
    renderText(template.slice(leading.length), values, encodeURIComponent)
  );
}

/** A header's value: line breaks would start another header. */
export const renderHeader = (template: string, values: Variables) =>
  renderText(template, values).replace(/[\r\n]+/g, ' ');

/** The variables a template uses, and whether a placeholder starts it. */
export const leadingVariable = (template: string) =>
  LEADING.exec(template) ? parseVariables(template)[0] : undefined;
