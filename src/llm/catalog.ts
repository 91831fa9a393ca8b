// What the router reads per call, cached per team in each process: the team's and the
// operator's routes and deployments (with their keys, still sealed) and the team's budgets.
// A change anywhere publishes llmConfigChanged and every process drops its copies; without
// pub/sub a copy is read again once it is CACHE_MS old.
import type {
  BudgetPeriod,
  BudgetScope,
  LlmProviderKind,
  LlmRouteStrategy,
  LlmService,
} from '../generated/prisma/enums.js';
import { db } from '../platform/db.js';
import { logger } from '../platform/logger.js';
import type { PubSub } from '../platform/pubsub.js';
import type { SealedSecret } from '../platform/vault.js';

const CACHE_MS = 5_000;

export interface KeyEntry {
  id: string;
  teamId: string | null;
  sealed: SealedSecret;
  /** The secret's SHA-256: which secret a call used (a rotation changes it). */
  fingerprint: string;
  expiresAt: Date | null;
  revokedAt: Date | null;
  rejectedAt: Date | null;
}

export interface DeploymentEntry {
  id: string;
  teamId: string | null;
  name: string;
  kind: LlmProviderKind;
  baseUrl: string | null;
  model: string;
  inputUsdPerMTok: number | null;
  outputUsdPerMTok: number | null;
  fromEnvironment: boolean;
  key: KeyEntry | undefined;
}

export interface RouteEntry {
  teamId: string | null;
  service: LlmService;
  strategy: LlmRouteStrategy;
  deploymentIds: string[];
  maxAttempts: number;
  fallbackToLocal: boolean;
  /** No route is set: the `env` deployment, as LLM_* configured it. */
  implicit: boolean;
}

export interface BudgetEntry {
  id: string;
  scope: BudgetScope;
  apiKeyId: string | null;
  limitUsd: number;
  period: BudgetPeriod;
}

export interface TeamView {
  routes: Map<LlmService, RouteEntry>;
  deployments: Map<string, DeploymentEntry>;
  budgets: BudgetEntry[];
}

const DEPLOYMENT_SELECT = {
  id: true,
  teamId: true,
  name: true,
  kind: true,
  baseUrl: true,
  model: true,
  inputUsdPerMTok: true,
  outputUsdPerMTok: true,
  fromEnvironment: true,
  providerKey: {
    select: {
      id: true,
      teamId: true,
      secretBox: true,
      wrappedKey: true,
      masterKeyVersion: true,
      fingerprint: true,
      expiresAt: true,
      revokedAt: true,
      rejectedAt: true,
    },
  },
} as const;

async function loadView(teamId: string | null, envDeploymentId: string): Promise<TeamView> {
  const owners = teamId ? [{ teamId }, { teamId: null }] : [{ teamId: null }];
  const [routes, deployments, budgets] = await Promise.all([
    db().llmRoute.findMany({ where: { OR: owners } }),
    db().llmDeployment.findMany({
      where: { OR: owners, deletedAt: null },
      select: DEPLOYMENT_SELECT,
    }),
    teamId ? db().llmBudget.findMany({ where: { teamId } }) : [],
  ]);
  const view: TeamView = { routes: new Map(), deployments: new Map(), budgets };
  for (const { providerKey, ...deployment } of deployments) {
    const key = providerKey && {
      id: providerKey.id,
      teamId: providerKey.teamId,
      sealed: {
        secretBox: Buffer.from(providerKey.secretBox),
        wrappedKey: Buffer.from(providerKey.wrappedKey),
        masterKeyVersion: providerKey.masterKeyVersion,
      },
      fingerprint: providerKey.fingerprint,
      expiresAt: providerKey.expiresAt,
      revokedAt: providerKey.revokedAt,
      rejectedAt: providerKey.rejectedAt,
    };
    view.deployments.set(deployment.id, { ...deployment, key: key ?? undefined });
  }
  // The team's route wins over the operator's for a service.
  for (const route of routes.sort((a, b) => Number(a.teamId !== null) - Number(b.teamId !== null)))
    view.routes.set(route.service, { ...route, implicit: false });
  for (const service of ['PLAN', 'WRITE'] as const)
    if (!view.routes.has(service))
      view.routes.set(service, {
        teamId: null,
        service,
        strategy: 'PRIORITY',
        deploymentIds: [envDeploymentId],
        maxAttempts: 1,
        // As before routes: a plan falls back to the local planner, a section fails its attempt.
        fallbackToLocal: service === 'PLAN',
        implicit: true,
      });
  return view;
}

export interface Catalog {
  view(teamId: string | null): Promise<TeamView>;
  /**
   * The view when it is loaded already (as `view` would serve it), without a turn of the
   * event loop: a routed call on the hot path starts its request in the tick it was made.
   */
  loaded(teamId: string | null): TeamView | undefined;
  /** Drops every cached view (this process); publish llmConfigChanged to reach the others. */
  forget(): void;
  close(): Promise<void>;
}

interface CachedView {
  at: number;
  view: Promise<TeamView>;
  /** The view, once loaded. */
  loaded?: TeamView;
  refreshing?: boolean;
}

function cachedView(at: number, view: Promise<TeamView>): CachedView {
  const entry: CachedView = { at, view };
  view.then(
    (loaded) => (entry.loaded = loaded),
    () => {},
  );
  return entry;
}

export function createCatalog(pubsub: PubSub, envDeploymentId: string): Catalog {
  const cache = new Map<string, CachedView>();
  const changes = pubsub.subscribe('llmConfigChanged', 'all');
  void (async () => {
    for await (const _change of changes) cache.clear();
  })().catch((err: unknown) => logger.warn({ err }, 'LLM config signal stopped'));
  changes.ready.catch(() => {});
  function entryOf(teamId: string | null): CachedView {
    const key = teamId ?? 'operator';
    const cached = cache.get(key);
    if (!cached) {
      const entry = cachedView(Date.now(), loadView(teamId, envDeploymentId));
      cache.set(key, entry);
      entry.view.catch(() => cache.get(key) === entry && cache.delete(key));
      return entry;
    }
    // Past its age a view is still served while the next one loads (no call waits on the
    // database); a change (forget, llmConfigChanged) drops it at once.
    if (Date.now() - cached.at >= CACHE_MS && !cached.refreshing) {
      cached.refreshing = true;
      const next = loadView(teamId, envDeploymentId);
      next.then(
        (view) => {
          if (cache.get(key) !== cached) return;
          const entry = cachedView(Date.now(), next);
          entry.loaded = view;
          cache.set(key, entry);
        },
        () => (cached.refreshing = false),
      );
    }
    return cached;
  }
  return {
    view: (teamId) => entryOf(teamId).view,
    loaded: (teamId) => entryOf(teamId).loaded,
    forget: () => cache.clear(),
    async close() {
      await changes.return?.();
      cache.clear();
    },
  };
}

/** Every process's catalog reads routes, deployments, keys and budgets of the team again. */
export const announceLlmConfigChanged = (pubsub: PubSub, teamId: string | null) =>
  pubsub.publish('llmConfigChanged', 'all', { teamId });
