// What services announce once they have committed a change that readers may hold a copy of: a
// fact of the domain (an agent changed, a template version was created), never a GraphQL name.
// Listeners map a change to what they must do: the response cache drops the answers that held
// it (src/http/response-cache/changes.ts), and live queries that read it run again
// (src/http/live-query/announce.ts). An announcement waits for every listener, so a read
// that follows the change, in any process sharing the cache, is answered anew.

export type DomainChange =
  /** A new agent: the lists it joins. */
  | { kind: 'agent.created' }
  /** Agents updated or deleted: themselves, the lists and the search answers over them. */
  | { kind: 'agents.changed'; agentIds: readonly string[] }
  /** A coverage computation was recorded for the agent (its figures and history). */
  | { kind: 'coverage.recorded'; agentId: string }
  /** Expired coverage history was deleted: any agent's history may have changed. */
  | { kind: 'coverage.history-expired' }
  /** Documents were ingested or deleted: search answers over them. */
  | { kind: 'corpus.changed' }
  | { kind: 'taxonomy.created' }
  /** A team's members, roles, invitations or keys; no teamId: any team's (a user's memberships). */
  | { kind: 'team.changed'; teamId?: string }
  | { kind: 'topic.created' }
  /** A topic's plan or generation moved. */
  | { kind: 'topic.changed'; topicId: string }
  /** A new template (made or forked): the lists it joins. */
  | { kind: 'template.created' }
  /** A template's figures (ratings, usage, flags): itself and the lists that sort by them. */
  | { kind: 'template.figures-changed'; templateId: string }
  /** A new version, a visibility change or a deletion: its forks and diffs change too. */
  | { kind: 'template.rewritten'; templateId: string }
  /** A task ended (completed, failed, dead, timed out or cancelled), in a worker or the API. */
  | { kind: 'task.ended'; taskId: string };

type ChangeListener = (changes: readonly DomainChange[]) => Promise<void>;

// The process's listeners, registered at start like db()'s client: connections, not settings.
const listeners = new Set<ChangeListener>();

/** Registers a listener; returns how to remove it. */
export function listenToChanges(listener: ChangeListener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export async function announceChanges(...changes: DomainChange[]): Promise<void> {
  if (changes.length === 0 || listeners.size === 0) return;
  await Promise.all([...listeners].map((listener) => listener(changes)));
}
