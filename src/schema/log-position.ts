// `afterSequence` of the live logs (taskProgress, workflowProgress, Workflow.events): a
// sequence a client saw, so never negative, and for a subscription never past the log's last
// event (an event is published after its commit, so a client cannot have seen one the log
// does not hold yet; a follower waiting past the end would wait for ever, the end included).
import { BadInputError } from '../platform/errors.js';

export function checkAfterSequence(
  afterSequence: number | null | undefined,
  lastSequence?: number,
): void {
  if (afterSequence == null) return;
  if (afterSequence < 0)
    throw new BadInputError(
      `afterSequence must be ≥ 0 (got ${afterSequence})`,
      { reason: 'NEGATIVE' },
      'afterSequence',
    );
  if (lastSequence !== undefined && afterSequence > lastSequence)
    throw new BadInputError(
      `afterSequence ${afterSequence} is past the log's last event (${lastSequence}): resume from a sequence received`,
      { reason: 'AFTER_LAST_EVENT', lastSequence },
      'afterSequence',
    );
}
