import { ApplicationFailure, continueAsNew, defineQuery, patched, proxyActivities, setHandler, sleep, workflowInfo } from '@temporalio/workflow';
import { z } from 'zod';
import type { Activities } from '../activities';
import { describeZodError, NameSchema } from '../domain/inputs';
import { advanceWatch, EMPTY_WATCH, type Proposal, type Report, type WatchProbe, type WatchState } from '../domain/watch';
import { errorMessage } from './steps';

/** One probe, once: a probe that fails is recorded as failed and the next comes at its time. */
const watch = proxyActivities<Activities>({ startToCloseTimeout: '1 minute', heartbeatTimeout: '10 seconds', retry: { maximumAttempts: 1 } });

/**
 * Input of `watchCluster`: the cluster, the probe interval (seconds, default 15), and what the
 * previous run carried over (state, the member nodes last read). The workflow ID is
 * `watch-<cluster>`: one watch per cluster.
 */
export const WatchInputSchema = z.strictObject({
  cluster: NameSchema,
  inventoryDigest: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  intervalSeconds: z.number().int().min(1).max(3600).default(15),
  /** Probes per run before continue-as-new: 100 is about 25 minutes at 15 s and about 1,100 history events. */
  probesPerRun: z.number().int().min(1).max(1000).default(100),
  state: z.custom<WatchState>((v) => typeof v === 'object' && v !== null).optional(),
  members: z.array(NameSchema).max(64).optional(),
});
export type WatchInput = z.input<typeof WatchInputSchema>;

/**
 * What the `watch` query answers: the open and recently closed proposals and reports, the last
 * probe's time and error, and the last probe that read the cluster (`last`: each member's
 * liveness, leader, database size; what /metrics exports) with the leader it found.
 */
export interface WatchView { cluster: string; intervalSeconds: number; proposals: Proposal[]; reports: Report[]; probes: number; failedProbes: number; lastProbeAt?: number; lastError?: string; last?: WatchProbe; leader?: string }

export const watchQuery = defineQuery<WatchView>('watch');

/**
 * Watches one cluster for as long as it runs: every `intervalSeconds` one read-only probe
 * (activities/etcd/watchProbe.ts: liveness from etcd with SSH apart, alarms, one cluster per
 * inventory), advanced through domain/watch.ts: a finding that lasts its threshold becomes a
 * proposal naming the runbook and its fields with the evidence, or a report; it closes as
 * resolved when the condition clears. Nothing is started: a person accepts a proposal. Continues
 * as new every `probesPerRun` probes (or when Temporal suggests it) carrying its state, so its
 * history stays bounded.
 */
export async function watchCluster(raw: WatchInput): Promise<never> {
  const parsed = WatchInputSchema.safeParse(raw);
  if (!parsed.success) throw ApplicationFailure.nonRetryable(`invalid watchCluster input: ${describeZodError(parsed.error)}`, 'InvalidInput');
  const input = parsed.data;
  const base = { cluster: input.cluster, ...(input.inventoryDigest ? { inventoryDigest: input.inventoryDigest } : {}) };
  let state = input.state ?? EMPTY_WATCH;
  let members = input.members ?? [];
  let lastProbeAt: number | undefined;
  let lastError: string | undefined;
  let last: WatchProbe | undefined;
  setHandler(watchQuery, () => ({
    cluster: input.cluster, intervalSeconds: input.intervalSeconds, proposals: state.proposals, reports: state.reports, probes: state.probes, failedProbes: state.failedProbes,
    ...(lastProbeAt !== undefined ? { lastProbeAt } : {}), ...(lastError ? { lastError } : {}), ...(last ? { last } : {}), ...(state.leader ? { leader: state.leader } : {}),
  }));
  for (let i = 0; i < input.probesPerRun && !workflowInfo().continueAsNewSuggested; i++) {
    let probe: WatchProbe;
    const started = Date.now();
    try {
      const r = (await watch.probeWatch({ ...base, members })).result;
      probe = r.probe;
      if (r.memberNodes.length) members = r.memberNodes;
    } catch (e) {
      probe = { at: Date.now(), members: [], spare: [], alarms: { noSpace: [], corrupt: [] }, foreign: [], error: errorMessage(e).slice(0, 200) };
    }
    state = advanceWatch(state, probe).state;
    lastProbeAt = probe.at;
    lastError = probe.error;
    if (!probe.error) last = probe;
    // Probes start every interval, not an interval after the last ended: a probe slowed by a node
    // whose SSH does not answer (10 s) would otherwise stretch the time to reach a threshold.
    const took = patched('watch-fixed-cadence') ? Date.now() - started : 0;
    await sleep(Math.max(1000, input.intervalSeconds * 1000 - took));
  }
  return continueAsNew<typeof watchCluster>({ ...raw, state, members });
}
