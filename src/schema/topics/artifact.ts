// A generated report (Artifact) and its downloadable files.
import { builder } from '../builder.js';
import { rowIdWhere } from '../../platform/ids.js';
import { byFormatOrder } from '../../services/topics/artifacts.js';
import { artifactVisibleTo } from '../../services/auth/visibility.js';
import { toGlobalId } from '../ids.js';

/** Where a file downloads from: relative to the API's origin (works behind any proxy). */
const downloadPath = (artifactId: string, format: string) =>
  `/artifacts/${encodeURIComponent(toGlobalId('Artifact', artifactId))}/${encodeURIComponent(format)}`;

interface ArtifactFileShape {
  artifactId: string;
  format: string;
  contentType: string;
  filename: string;
  bytes: number;
}

const ArtifactFile = builder.objectRef<ArtifactFileShape>('ArtifactFile').implement({
  fields: (t) => ({
    format: t.exposeString('format', { description: 'markdown, hwpx or docx.' }),
    url: t.string({
      description:
        "Relative to this API's origin. GET it with an API key of a member of the topic's " +
        'team (Bearer or X-API-Key); anyone else gets 404.',
      resolve: (file) => downloadPath(file.artifactId, file.format),
    }),
    bytes: t.exposeInt('bytes'),
    contentType: t.exposeString('contentType'),
    filename: t.exposeString('filename', {
      description: 'The name the download is saved under (Content-Disposition).',
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
        files: { select: { format: true, contentType: true, filename: true, bytes: true } },
      },
      resolve: (artifact) =>
        [...artifact.files]
          .sort(byFormatOrder)
          .map((file) => ({ ...file, artifactId: artifact.id })),
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});
