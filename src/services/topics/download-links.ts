// Signed download links: a report file's URL that opens without an API key until it expires.
// The signature is HMAC-SHA256 (RFC 2104) over the artifact, the format, the expiry and the id
// of the API key that asked for the link, so changing any of them breaks it; the link stops
// working once that key is revoked or its member leaves the topic's team (checked on every
// download). Design: docs/operations.md "Download links".
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { ApiKeyAuthenticator } from '../auth/authenticator.js';
import { findArtifactFileForCaller } from './artifacts.js';

export interface DownloadLinkSettings {
  /** DOWNLOAD_LINK_SECRET: the HMAC key, shared by every API process. */
  secret: string;
  /** DOWNLOAD_LINK_TTL_SECONDS: how long a link works after it was handed out. */
  ttlSeconds: number;
}

/** What a link is signed for: the parts of its path and query. */
export interface DownloadGrant {
  /** The artifact's row id. */
  artifactId: string;
  format: string;
  /** Unix time in seconds past which the link is refused. */
  expires: number;
  /** The API key that asked for the link; OPERATOR_KEY_ID for the environment's ADMIN_API_KEY. */
  keyId: string;
}

/** The query parameters of a signed link, beside the artifact and format in its path. */
export const SIGNED_LINK_PARAMS = { expires: 'expires', keyId: 'keyId', signature: 'signature' };

/** Stands for the environment's ADMIN_API_KEY, which has no row (and no id) of its own. */
export const OPERATOR_KEY_ID = 'operator';

/**
 * `operatorFingerprint`: ApiKeyAuthenticator.operatorFingerprint(), signed into the operator's
 * links (which have no key row to be revoked): a new ADMIN_API_KEY ends the old one's links.
 */
function signatureOf(secret: string, grant: DownloadGrant, operatorFingerprint: string): Buffer {
  // A JSON array: no value can run into the next one, whatever characters it holds.
  const message = JSON.stringify([
    'artifact-download/v1',
    grant.artifactId,
    grant.format,
    grant.expires,
    grant.keyId,
    grant.keyId === OPERATOR_KEY_ID ? operatorFingerprint : '',
  ]);
  return createHmac('sha256', secret).update(message).digest();
}

/** A link's grant and signature (base64url) for this caller's key, valid for the TTL from `now`. */
export function signDownload(
  settings: DownloadLinkSettings,
  file: { artifactId: string; format: string; apiKeyId: string | null },
  operatorFingerprint: string,
  now = Date.now(),
): { grant: DownloadGrant; signature: string } {
  const grant: DownloadGrant = {
    artifactId: file.artifactId,
    format: file.format,
    expires: Math.ceil(now / 1000) + settings.ttlSeconds,
    keyId: file.apiKeyId ?? OPERATOR_KEY_ID,
  };
  const signature = signatureOf(settings.secret, grant, operatorFingerprint);
  return { grant, signature: signature.toString('base64url') };
}

/**
 * The signature is the grant's, as its link spells it (base64url, unpadded), compared in
 * constant time: decoding it first took other spellings too (Node's decoder skips characters
 * outside the alphabet and padding).
 */
function signatureMatches(
  secret: string,
  grant: DownloadGrant,
  signature: string,
  operatorFingerprint: string,
): boolean {
  const given = Buffer.from(signature);
  const expected = Buffer.from(
    signatureOf(secret, grant, operatorFingerprint).toString('base64url'),
  );
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * The file a signed link opens; undefined when the signature is not the grant's, the link
 * has expired, its key is revoked or unknown, or the key's member no longer sees the topic.
 */
export async function findArtifactFileForSignedLink(
  settings: DownloadLinkSettings,
  apiKeys: ApiKeyAuthenticator,
  link: { grant: DownloadGrant; signature: string },
  now = Date.now(),
) {
  const fingerprint = apiKeys.operatorFingerprint();
  if (!signatureMatches(settings.secret, link.grant, link.signature, fingerprint)) return undefined;
  if (link.grant.expires * 1000 <= now) return undefined;
  const keyId = link.grant.keyId === OPERATOR_KEY_ID ? null : link.grant.keyId;
  const caller = await apiKeys.currentCaller(keyId);
  if (!caller) return undefined;
  return findArtifactFileForCaller(link.grant.artifactId, link.grant.format, caller);
}
