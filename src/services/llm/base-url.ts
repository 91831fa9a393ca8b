// A deployment's base URL, checked as webhook URLs are (src/platform/outbound-url.ts): http(s)
// without credentials (userinfo, or a query parameter named like one) or a fragment; in
// production https to a public address, checked when it is set and again at every connect by
// the gateway's fetch (publicOnlyFetch).
import { BadInputError } from '../../platform/errors.js';
import { checkOutboundUrl } from '../../platform/outbound-url.js';

// A query parameter named like a credential, whole (`?code=`, `?pass=`) or by one of its words
// (`?api_key=`, `?sig=`, `?client_secret=`, `?X-Amz-Signature=`, `?X-Goog-Credential=`):
// shown to every member with the deployment. Others stay (Azure OpenAI's `?api-version=`).
const CREDENTIAL_NAMES = new Set(['code', 'pass']);
const CREDENTIAL_WORDS = new Set([
  'key',
  'apikey',
  'token',
  'secret',
  'password',
  'passwd',
  'pwd',
  'auth',
  'authorization',
  'sig',
  'signature',
  'credential',
  'credentials',
]);

/**
 * Its words: split at anything but a letter or a digit (`-`, `_`, `.`, a form's `[]`), and where
 * a lower-case letter meets a capital.
 */
const namesCredential = (name: string) =>
  CREDENTIAL_NAMES.has(name.toLowerCase()) ||
  name
    .split(/[^\p{L}\p{N}]+|(?<=[a-z])(?=[A-Z])/u)
    .some((word) => CREDENTIAL_WORDS.has(word.toLowerCase()));

const refuse = (problem: string) =>
  new BadInputError(`baseUrl ${problem}`, { field: 'baseUrl' }, 'baseUrl');

/** The URL to store: checkOutboundUrl's (http(s), no credentials, no fragment), no key in its query. */
export async function checkBaseUrl(raw: string, allowPrivate: boolean): Promise<string> {
  const checked = await checkOutboundUrl(raw, { allowPrivateTargets: allowPrivate }, 'baseUrl');
  const url = new URL(checked);
  // Neither the name nor the value is repeated back: either may be the secret.
  if ([...url.searchParams.keys()].some(namesCredential))
    throw refuse(
      'must not carry credentials (a query parameter named like a key, token or secret)',
    );
  return checked;
}
