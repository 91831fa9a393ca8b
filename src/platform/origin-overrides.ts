// PLUGIN_ORIGIN_OVERRIDES (outside production only, docs/plugins.md#trying-a-plugin-locally):
// `https://api.example.com=http://127.0.0.1:4010,…`, each origin a plugin names sent to a
// local stand-in instead, once its host passed the plugin's grants.
import { z } from 'zod';

const PAIR = 'https?://[^=,\\s]+=https?://[^=,\\s]+';

export const originOverridesFromEnv = z
  .string()
  .regex(
    new RegExp(`^\\s*(${PAIR}\\s*(,\\s*${PAIR}\\s*)*)?$`),
    'must be origin=origin pairs, comma-separated (https://api.example.com=http://127.0.0.1:4010)',
  )
  .optional();

/** The pairs as origin → origin. */
export function originOverrides(text: string | undefined): Record<string, string> {
  const pairs = (text ?? '').split(',').filter((pair) => pair.trim());
  return Object.fromEntries(
    pairs.map((pair) => {
      const [from, to] = pair.trim().split('=');
      return [new URL(from!).origin, new URL(to!).origin];
    }),
  );
}
