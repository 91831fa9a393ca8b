// coverage_refresh: computes the agent's coverage, appends the history entry and updates the
// agent. Idempotent per task: the history entry is keyed by task id, so an attempt that ran
// twice (a worker died after committing) still leaves one entry.
import pRetry, { AbortError } from 'p-retry';
import { z } from 'zod';
import { db } from '../../../platform/db.js';
import { NotFoundError } from '../../../platform/errors.js';
import { computeAndRecordCoverage } from '../coverage.js';
import { taskSpec } from '../../../queue/task-spec.js';
import { defineTask, NonRetryableError } from '../../../queue/task-definition.js';

export const coverageRefresh = taskSpec({
  name: 'coverage_refresh',
  payload: z.object({ agentId: z.guid(), webhookEndpointId: z.guid().optional() }),
  maxAttempts: 3,
  timeoutSeconds: 300,
});

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
          return await computeAndRecordCoverage(agentId, { taskId: task.id, pubsub, signal });
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
