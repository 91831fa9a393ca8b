// Where a rendered request may go: http(s) without credentials, to a host and port a granted
// `network:` scope names, and in production https to public addresses only (the same check
// as webhook URLs: src/platform/outbound-url.ts; request-filtering-agent checks again at
// connect time). The refusal names the host, never the URL: a secret may be in its path.
import { checkOutboundUrl } from '../../platform/outbound-url.js';
import type { PluginNetwork } from './http-call.js';
import { hostGranted, networkScopeOf, type Grants } from './scopes.js';

export class PluginRefusal extends Error {
  override name = 'PluginRefusal';
}

export async function pluginTarget(
  text: string,
  grants: Pick<Grants, 'hosts'>,
  network: PluginNetwork,
): Promise<URL> {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new PluginRefusal('the rendered URL is not a URL');
  }
  if (url.protocol !== 'https:' && !(network.allowPrivateTargets && url.protocol === 'http:'))
    throw new PluginRefusal('the URL must use https');
  if (url.username || url.password) throw new PluginRefusal('the URL must not carry credentials');
  if (!hostGranted(url, grants))
    throw new PluginRefusal(`the host ${url.host} is not granted (${networkScopeOf(url)})`);
  if (!network.allowPrivateTargets)
    await checkOutboundUrl(text, { allowPrivateTargets: false }, 'url').catch((error: Error) => {
      // A name that does not resolve now may tomorrow (a DNS outage): retried, not refused.
      if (/does not resolve/.test(error.message))
        throw new Error(`the host ${url.host} does not resolve`);
      throw new PluginRefusal(`the host ${url.host} is not a public address`);
    });
  return url;
}
