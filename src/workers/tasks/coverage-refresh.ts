// coverage_refresh (seed 001 background refresh): computes the agent's coverage, appends
// the history entry and updates the agent. Idempotent per task: the history entry is
// keyed by task id, so an attempt that ran twice (a worker died after committing)
// still leaves one entry.
import pRetry, { AbortError } from 'p-retry';
import { db } from '../../platform/db.js';
import { NotFoundError } from '../../platform/errors.js';
import { computeAndRecordCoverage } from '../../resolvers/coverage/coverage.js';
import { coverageRefresh } from '../../resolvers/coverage/refresh.js';
import { defineTask, NonRetryableError } from '../task-registry.js';

export const coverageRefreshTask = defineTask(coverageRefresh, {
  async run({ agentId }, { task, signal, reportProgress, pubsub }) {
    reportProgress(5, 'loading agent');
    const agent = await db().agent.findUnique({ where: { id: agentId }, select: { id: true } });
    if (!agent) throw new NonRetryableError('the agent was deleted');
    reportProgress(20, 'computing coverage');
    // In-process retries for transient database errors within this attempt.
    const report = await pRetry(
      async () => {
        try {
          return await computeAndRecordCoverage(agentId, { taskId: task.id, pubsub });
        } catch (error) {
          if (error instanceof NotFoundError) throw new AbortError('the agent was deleted');
          throw error;
        }
      },
      { retries: 2, minTimeout: 50, maxTimeout: 500, signal },
    ).catch((error) => {
      if (error instanceof AbortError || error?.name === 'AbortError')
        throw new NonRetryableError(error.message);
      throw error;
    });
    reportProgress(95, 'saving');
    return {
      overallCoverage: report.overallCoverage,
      totalDocuments: report.totalDocuments,
      totalChunks: report.totalChunks,
      gaps: report.gaps.length,
      computedAt: report.computedAt.toISOString(),
    };
  },
});
