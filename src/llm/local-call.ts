// A route's LOCAL deployment (the built-in planner and writer) is metered as any call (every
// attempt is a row): at its price, 0, with its tokens estimated from the prompt and the
// text (the local provider reports none), once the caller says what it wrote. Not the `env`
// deployment made LOCAL by LLM_PROVIDER=local: that one means no LLM is configured at all, and
// metering it would write a row for every plan and section of a service that calls none.
import { randomUUID } from 'node:crypto';
import type { LlmService } from '../generated/prisma/enums.js';
import { LocalProviderChosen, type ChatRequest } from '../reports/writers/types.js';
import { meter, type AttemptDeps } from './attempt.js';
import type { DeploymentEntry } from './catalog.js';

/** The route chose this LOCAL deployment, as its attempt `attempt`. */
export class LocalDeploymentChosen extends LocalProviderChosen {
  readonly startedAt = performance.now();
  constructor(
    fellBack: boolean,
    reason: string,
    readonly deployment: DeploymentEntry,
    readonly attempt: number,
  ) {
    super(fellBack, reason);
  }
}

/** The router's end of a call that went local: a LOCAL deployment's call is metered once written. */
export function localChosen(
  deps: AttemptDeps,
  service: LlmService,
  request: ChatRequest,
  chosen: LocalProviderChosen,
): 'local' {
  if (!(chosen instanceof LocalDeploymentChosen) || chosen.deployment.fromEnvironment)
    return 'local';
  chosen.metered = (text) => {
    const plan = {
      deployment: chosen.deployment,
      service,
      scope: request.call ?? { teamId: null, apiKeyId: null },
      attempt: chosen.attempt,
      reserved: [],
    };
    const measured = {
      id: randomUUID(),
      started: chosen.startedAt,
      usage: undefined,
      firstTokenMs: undefined,
      chars: text.length,
      result: { outcome: 'OK' as const, yielded: text.length > 0 },
    };
    meter(deps, plan, request, measured, false);
  };
  return 'local';
}
