// Template.versions (newest first, keyset cursor [version]) and Template.versionAt: every
// template of a response asking for the same page, or the same version, is served by one
// statement (request-batch.ts), so a list of templates costs no query per template.
import { db } from '../../platform/db.js';
import {
  connectionFromRows,
  decodeCursor,
  isInt4,
  notACursor,
  pageSize,
} from '../../platform/pagination.js';
import { groupBy, loadInBatch } from './request-batch.js';
import { countTemplateVersions } from './sql/count-template-versions.js';
import { selectTemplateVersionPages } from './sql/select-template-version-pages.js';
import { selectTemplateVersionsAt } from './sql/select-template-versions-at.js';
import type { TemplateVersionRow, VersionReaders } from './versions.js';

export interface VersionPageArgs {
  first?: number | null;
  after?: string | null;
}

function versionPage(args: VersionPageArgs) {
  const limit = pageSize(args.first);
  const cursor = decodeCursor<[unknown]>(args.after, 1);
  // A version is an int4: anything else did not come from this connection.
  if (cursor && !isInt4(cursor[0])) throw notACursor();
  return { limit, before: cursor?.[0] as number | undefined };
}

interface VersionPage {
  rows: TemplateVersionRow[];
  totalCount: number;
}

/**
 * One page of a template's versions, as `teams` read them (one caller per request); `scope` is
 * the request's context object.
 */
export async function templateVersionsPage(
  scope: object,
  template: { id: string },
  args: VersionPageArgs,
  teams: VersionReaders,
) {
  const page = versionPage(args);
  const load = async (templateIds: string[]) => {
    const [rows, counts] = await Promise.all([
      selectTemplateVersionPages(db(), templateIds, page.before, page.limit + 1, teams),
      countTemplateVersions(db(), templateIds, teams),
    ]);
    const byTemplate = groupBy(rows, (row) => row.templateId);
    return new Map<string, VersionPage>(
      templateIds.map((id) => [
        id,
        { rows: byTemplate.get(id) ?? [], totalCount: counts.get(id) ?? 0 },
      ]),
    );
  };
  const found = await loadInBatch(scope, `versions:${JSON.stringify(page)}`, template.id, load);
  return {
    ...connectionFromRows(found?.rows ?? [], page.limit, args.after, (row) => [row.version]),
    totalCount: found?.totalCount ?? 0,
  };
}

/** A recorded version of a template as `teams` read it, or null. */
export async function templateVersionAt(
  scope: object,
  templateId: string,
  version: number,
  teams: VersionReaders,
): Promise<TemplateVersionRow | null> {
  const load = async (templateIds: string[]) =>
    new Map(
      (await selectTemplateVersionsAt(db(), templateIds, version, teams)).map((row) => [
        row.templateId,
        row,
      ]),
    );
  return (await loadInBatch(scope, `versionAt:${version}`, templateId, load)) ?? null;
}
