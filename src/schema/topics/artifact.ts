// A generated report (Artifact) and its downloadable files, each with a signed link.
import { builder } from '../builder.js';
import { rowIdWhere } from '../../platform/ids.js';
import { byFormatOrder } from '../../services/topics/artifacts.js';
import { downloadFilename } from '../../services/topics/download-names.js';
import {
  signDownload,
  SIGNED_LINK_PARAMS,
  type DownloadLinkSettings,
} from '../../services/topics/download-links.js';
import { artifactVisibleTo } from '../../services/auth/visibility.js';
import type { Caller } from '../../services/auth/caller.js';
import { toGlobalId } from '../ids.js';

/** `/artifacts/<artifact id>/<format>?expires=…&keyId=…&signature=…`, and when it expires. */
function signedDownload(
  settings: DownloadLinkSettings,
  caller: Pick<Caller, 'apiKeyId'>,
  operatorFingerprint: string,
  artifactId: string,
  format: string,
): { url: string; expiresAt: Date } {
  const { grant, signature } = signDownload(
    settings,
    { artifactId, format, apiKeyId: caller.apiKeyId },
    operatorFingerprint,
  );
  const query = new URLSearchParams({
    [SIGNED_LINK_PARAMS.expires]: String(grant.expires),
    [SIGNED_LINK_PARAMS.keyId]: grant.keyId,
    [SIGNED_LINK_PARAMS.signature]: signature,
  });
  const path = `/artifacts/${encodeURIComponent(toGlobalId('Artifact', artifactId))}/${encodeURIComponent(format)}`;
  return { url: `${path}?${query}`, expiresAt: new Date(grant.expires * 1000) };
}

interface ArtifactFileShape {
  format: string;
  contentType: string;
  filename: string;
  bytes: number;
  /** Relative to the API's origin (works behind any proxy), signed. */
  url: string;
  expiresAt: Date;
}

const ArtifactFile = builder.objectRef<ArtifactFileShape>('ArtifactFile').implement({
  fields: (t) => ({
    format: t.exposeString('format', { description: 'markdown, hwpx or docx.' }),
    url: t.exposeString('url', {
      description:
        "Relative to this API's origin, signed for the key that asked: it opens without a " +
        'key (in a browser too) until `expiresAt`, or until that key is revoked or its member ' +
        "leaves the topic's team (403). GET with an API key of a member of the topic's team " +
        '(Bearer or X-API-Key) works as well, without the query; anyone else gets 404.',
    }),
    expiresAt: t.expose('expiresAt', {
      type: 'DateTime',
      description: 'When `url` stops working (DOWNLOAD_LINK_TTL_SECONDS after it was read).',
    }),
    bytes: t.exposeInt('bytes'),
    contentType: t.exposeString('contentType'),
    filename: t.exposeString('filename', {
      description:
        "The name the download is saved under (Content-Disposition): the topic's title and " +
        "the format's extension.",
    }),
  }),
});

export const Artifact = builder.prismaNode('Artifact', {
  id: { field: 'id' },
  // node(id) sees the artifacts of the topics topic(id) sees.
  nullable: true,
  findUnique: (id, ctx) => ({ ...rowIdWhere(id), AND: [artifactVisibleTo(ctx.caller)] }),
  description: 'A generated report: its Markdown, and every exported file.',
  fields: (t) => ({
    format: t.string({
      description: 'The format of `markdown` (always "markdown"); `downloads` has the others.',
      resolve: () => 'markdown',
    }),
    markdown: t.exposeString('markdown'),
    downloads: t.field({
      type: [ArtifactFile],
      select: {
        id: true,
        topic: { select: { topic: true } },
        files: { select: { format: true, contentType: true, bytes: true } },
      },
      resolve: (artifact, _args, ctx) =>
        [...artifact.files].sort(byFormatOrder).map((file) => ({
          ...file,
          filename: downloadFilename(artifact.topic.topic, file.format),
          ...signedDownload(
            ctx.downloadLinks,
            ctx.caller,
            ctx.apiKeys.operatorFingerprint(),
            artifact.id,
            file.format,
          ),
        })),
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});
