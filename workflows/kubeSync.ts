import { ApplicationFailure } from '@temporalio/workflow';
import { KubeSyncInputSchema, type KubeSyncInput } from '../domain/inputs';
import { kubeDrift, unreadyApiservers, type KubeState } from '../domain/kubeSync';
import type { Leftover } from '../domain/progress';
import { recordLeftovers } from './compensation';
import { planOf, planOnly, runPhases, type DryRunResult, type Phase } from './phases';
import { changes, long, reads, type Base } from './proxies';
import { startRunbook } from './runbook';
import type { ProgressTracker } from './steps';

/** The control-plane phase of a run: the nodes it will touch, and what refuses the run at pre-flight. */
export interface KubePlan { nodes: string[]; unreachable: string[]; problems: string[] }

/**
 * Pre-flight of the control-plane phase. Undefined when the inventory has no kubernetes section.
 * With `requireReady`, every apiserver except those on the `except` nodes (a failed node being
 * replaced) must be ready before anything changes: a membership change on a control plane that is
 * already down is refused. Disaster runbooks (restore, recover-quorum) pass requireReady false:
 * etcd itself is why they are down.
 */
export async function planKubeSync(base: Base, opts: { requireReady: boolean; except?: string[] }): Promise<KubePlan | undefined> {
  const state: KubeState = (await reads.inspectKube(base)).result;
  if (!state.enabled) return undefined;
  const problems = opts.requireReady ? unreadyApiservers(state, opts.except).map((p) => `control plane not healthy before the change: ${p}`) : [];
  return { nodes: state.nodes.map((n) => n.node), unreachable: state.nodes.filter((n) => !n.reachable).map((n) => n.node), problems };
}

const KUBE_SOURCE = 'reference 000 §6 (cm-kubeadm-manage update_configmap, update_apiserver); kubeadm docs "kubeadm init phase control-plane"';

/**
 * The control-plane phases (none without a plan), as reference 000 §6 does by hand: the
 * kubeadm-config ConfigMap (`update_configmap`), then each control-plane node's kubeadm config
 * file, then one node at a time its apiserver (`update_apiserver`: kubeadm regenerates the
 * manifest, kubelet replaces the pod, /readyz and the running --etcd-servers are checked before
 * the next node). The members are read again when the phase starts. A node that does not answer
 * over SSH is skipped and recorded as a leftover (kube-sync finishes it later); any other failure
 * stops where it is (every apiserver not yet done keeps its old, still working, endpoint list),
 * at the safe point `where`.
 */
export function kubePhases(tracker: ProgressTracker, base: Base, plan: KubePlan | undefined, where: string): Phase[] {
  if (!plan) return [];
  let state: KubeState | undefined;
  const down = () => new Set(state?.nodes.filter((n) => !n.reachable).map((n) => n.node) ?? []);
  return [
    {
      id: 'kube:configmap', title: 'kubeadm-config ConfigMap: etcd.external.endpoints = the voting members', source: KUBE_SOURCE,
      pointOfNoReturn: 'started',
      safePoint: () => ({ where, leftovers: [{ node: plan.nodes.join(','), what: 'kubeadm-config, kubeadm config files or apiserver --etcd-servers not yet matching the members', fix: 'etcd-runbooks kube-sync' }] }),
      run: async () => {
        const s = (await reads.inspectKube(base)).result;
        state = s;
        if (!s.desired.length) throw ApplicationFailure.nonRetryable('no voting member offers a client URL: the control plane is left as it is', 'PreconditionFailed');
        recordLeftovers(tracker, [...down()].map((node): Leftover => ({ node, what: `kube-apiserver and kubeadm config file not pointed at ${s.desired.join(',')} (node did not answer)`, fix: 'etcd-runbooks kube-sync' })));
        // Through a ready apiserver (after a restore they may still be reconnecting: the activity retries).
        const via = s.nodes.find((n) => n.ready)?.node ?? s.nodes.find((n) => n.reachable)?.node;
        if (!via) throw ApplicationFailure.nonRetryable('no control-plane node answers: the control plane is left as it is', 'PreconditionFailed');
        const r = (await changes.writeKubeConfigMap({ ...base, endpoints: s.desired, via })).result;
        return r.changed ? `was ${r.before.join(',')}; now ${s.desired.join(',')} (via ${r.via})` : `already ${s.desired.join(',')}`;
      },
    },
    {
      id: 'kube:files', title: 'kubeadm config file on each control-plane node: the same endpoints', source: KUBE_SOURCE,
      run: async () => {
        const out: string[] = [];
        for (const n of state!.nodes) {
          if (down().has(n.node)) { out.push(`${n.node} skipped (no answer)`); continue; }
          const r = (await changes.writeKubeadmConfigFile({ ...base, node: n.node, endpoints: state!.desired })).result;
          out.push(`${n.node} ${r.changed ? 'written' : 'already right'}`);
        }
        return out.join(', ');
      },
    },
    ...plan.nodes.map((node): Phase => ({
      id: `kube:apiserver:${node}`, node, source: KUBE_SOURCE,
      title: `regenerate ${node}'s kube-apiserver manifest (kubeadm init phase control-plane apiserver), wait for the new pod and /readyz`,
      runIf: () => (down().has(node) ? 'node did not answer over SSH; run kube-sync when it is back' : true),
      run: async () => {
        const desired = state!.desired;
        const r = (await long.regenerateApiserver({ ...base, node, endpoints: desired })).result;
        return r.restarted ? `new apiserver ${r.newContainer?.slice(0, 12)} ready in ${r.seconds} s with --etcd-servers=${desired.join(',')}` : `running with these --etcd-servers${r.seconds !== undefined ? `, ready after ${r.seconds} s` : ''}; not restarted`;
      },
    })),
  ];
}

/** Where a membership runbook stops when its control-plane phase fails: the etcd change stays. */
export const KUBE_SAFE_POINT = 'the etcd change is complete and verified; the control plane was not fully pointed at the new members (every apiserver not yet done still uses its old endpoint list)';

export interface KubeSyncResult { desired: string[]; driftBefore: string[]; driftAfter: string[]; leftovers: Leftover[] }

/**
 * `kube-sync`: the control-plane phase alone (after a change made by hand, or to finish one a node
 * missed), as `cm-kubeadm-manage update_configmap` + `update_apiserver` per node. Reference 000 §6.
 */
export async function kubeSync(raw: KubeSyncInput): Promise<KubeSyncResult | DryRunResult> {
  const { input, base, tracker } = startRunbook('kubeSync', KubeSyncInputSchema, raw);
  const before = (await reads.inspectKube(base)).result;
  const plan: KubePlan | undefined = before.enabled ? { nodes: before.nodes.map((n) => n.node), unreachable: [], problems: [] } : undefined;
  const phases = kubePhases(tracker, base, plan, 'the control plane was partly pointed at the members (every apiserver not yet done still uses its old endpoint list)');
  tracker.setSteps([{ id: 'preflight', title: 'read the members and the control plane', status: 'done', detail: `${kubeDrift(before).length} drift lines` }, ...planOf(phases)]);
  if (!before.enabled) {
    tracker.progress.outcome = 'completed';
    tracker.progress.message = 'nothing to do: the inventory has no kubernetes section';
    return { desired: [], driftBefore: [], driftAfter: [], leftovers: [] };
  }
  if (input.dryRun) return planOnly(tracker, phases, { voters: before.desired.length, serving: before.desired.length });
  tracker.progress.outcome = 'running';
  await runPhases(tracker, undefined, phases, () => 'nothing was changed');
  const after = (await reads.inspectKube(base)).result;
  tracker.progress.outcome = 'completed';
  tracker.progress.message = kubeDrift(after).length ? `drift left: ${kubeDrift(after).join('; ')}` : `every apiserver uses ${after.desired.join(',')}`;
  return { desired: after.desired, driftBefore: kubeDrift(before), driftAfter: kubeDrift(after), leftovers: tracker.progress.leftovers ?? [] };
}
