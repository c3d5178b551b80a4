import { ApplicationFailure, patched } from '@temporalio/workflow';
import { KubeSyncInputSchema, type KubeSyncInput } from '../domain/inputs';
import { kubeDrift, kubeSyncSteps, unreadyApiservers, type KubeState } from '../domain/kubeSync';
import type { Leftover } from '../domain/progress';
import { recordLeftovers, stopAtSafePoint } from './compensation';
import { changes, long, reads, type Base } from './proxies';
import { startRunbook } from './runbook';
import type { ProgressTracker } from './steps';

/**
 * Patch id of the control-plane phase (0.4): membership runbooks read the Kubernetes control plane
 * at pre-flight and end by pointing it at the members. Runs started before replay without it.
 */
export const KUBE_SYNC = 'kube-sync';

/** The control-plane phase of a run: the nodes it will touch, and what refuses the run at pre-flight. */
export interface KubePlan { nodes: string[]; unreachable: string[]; problems: string[] }

/**
 * Pre-flight of the control-plane phase. Undefined when the run replays from before the phase
 * (`patched`) or the inventory has no kubernetes section. With `requireReady`, every apiserver
 * except those on the `except` nodes (a failed node being replaced) must be ready before anything
 * changes: a membership change on a control plane that is already down is refused. Disaster
 * runbooks (restore, recover-quorum) pass requireReady false: etcd itself is why they are down.
 */
export async function planKubeSync(base: Base, opts: { requireReady: boolean; except?: string[]; patch?: boolean }): Promise<KubePlan | undefined> {
  if (opts.patch !== false && !patched(KUBE_SYNC)) return undefined;
  const state: KubeState = (await reads.inspectKube(base)).result;
  if (!state.enabled) return undefined;
  const problems = opts.requireReady ? unreadyApiservers(state, opts.except).map((p) => `control plane not healthy before the change: ${p}`) : [];
  return { nodes: state.nodes.map((n) => n.node), unreachable: state.nodes.filter((n) => !n.reachable).map((n) => n.node), problems };
}

/** The plan steps of the phase (empty without one). */
export function kubePlanSteps(plan: KubePlan | undefined) {
  return plan ? kubeSyncSteps(plan.nodes) : [];
}

/**
 * Points the control plane at the members, as reference 000 §6 does by hand: the kubeadm-config
 * ConfigMap (`update_configmap`), then each control-plane node's kubeadm config file, then one
 * node at a time its apiserver (`update_apiserver`: kubeadm regenerates the manifest, kubelet
 * replaces the pod, /readyz and the running --etcd-servers are checked before the next node).
 * A node that does not answer over SSH is skipped and recorded as a leftover (kube-sync finishes
 * it later); any other failure stops the phase where it is (every apiserver not yet done keeps its
 * old, still working, endpoint list). Returns the leftovers.
 */
export async function syncControlPlane(tracker: ProgressTracker, base: Base): Promise<Leftover[]> {
  const state = (await reads.inspectKube(base)).result;
  const desired = state.desired;
  if (!desired.length) throw ApplicationFailure.nonRetryable('no voting member offers a client URL: the control plane is left as it is', 'PreconditionFailed');
  const down = new Set(state.nodes.filter((n) => !n.reachable).map((n) => n.node));
  const leftovers: Leftover[] = [...down].map((node) => ({ node, what: `kube-apiserver and kubeadm config file not pointed at ${desired.join(',')} (node did not answer)`, fix: 'etcd-runbooks kube-sync' }));
  // Through a ready apiserver (after a restore they may still be reconnecting: the activity retries).
  const via = state.nodes.find((n) => n.ready)?.node ?? state.nodes.find((n) => n.reachable)?.node;
  if (!via) throw ApplicationFailure.nonRetryable('no control-plane node answers: the control plane is left as it is', 'PreconditionFailed');
  await tracker.run('kube:configmap', async () => (await changes.writeKubeConfigMap({ ...base, endpoints: desired, via })).result,
    (r) => (r.changed ? `was ${r.before.join(',')}; now ${desired.join(',')} (via ${r.via})` : `already ${desired.join(',')}`));
  await tracker.run('kube:files', async () => {
    const out: string[] = [];
    for (const n of state.nodes) {
      if (down.has(n.node)) { out.push(`${n.node} skipped (no answer)`); continue; }
      const r = (await changes.writeKubeadmConfigFile({ ...base, node: n.node, endpoints: desired })).result;
      out.push(`${n.node} ${r.changed ? 'written' : 'already right'}`);
    }
    return out.join(', ');
  }, (d) => d);
  for (const n of state.nodes) {
    const id = `kube:apiserver:${n.node}`;
    if (down.has(n.node)) { tracker.skip(id, 'node did not answer over SSH; run kube-sync when it is back'); continue; }
    await tracker.run(id, async () => (await long.regenerateApiserver({ ...base, node: n.node, endpoints: desired })).result,
      (r) => (r.restarted ? `new apiserver ${r.newContainer?.slice(0, 12)} ready in ${r.seconds} s with --etcd-servers=${desired.join(',')}` : `running with these --etcd-servers${r.seconds !== undefined ? `, ready after ${r.seconds} s` : ''}; not restarted`));
  }
  recordLeftovers(tracker, leftovers);
  return leftovers;
}

/**
 * The phase at the end of a membership runbook: after the etcd change is done and verified. A
 * failure ends the run at the safe point "etcd changed, control plane partly pointed at it" with
 * kube-sync as the fix; it never undoes the etcd change.
 */
export async function finishWithKubeSync(tracker: ProgressTracker, base: Base, plan: KubePlan | undefined): Promise<void> {
  if (!plan) return;
  try {
    await syncControlPlane(tracker, base);
  } catch (e) {
    stopAtSafePoint(tracker, e, 'the etcd change is complete and verified; the control plane was not fully pointed at the new members (every apiserver not yet done still uses its old endpoint list)',
      [{ node: plan.nodes.join(','), what: 'kubeadm-config, kubeadm config files or apiserver --etcd-servers not yet matching the members', fix: 'etcd-runbooks kube-sync' }]);
  }
}

export interface KubeSyncResult { desired: string[]; driftBefore: string[]; driftAfter: string[]; leftovers: Leftover[] }

/**
 * `kube-sync`: the control-plane phase alone (after a change made by hand, or to finish one a node
 * missed), as `cm-kubeadm-manage update_configmap` + `update_apiserver` per node. Reference 000 §6.
 */
export async function kubeSync(raw: KubeSyncInput): Promise<KubeSyncResult> {
  const { base, tracker } = startRunbook('kubeSync', KubeSyncInputSchema, raw);
  const before = (await reads.inspectKube(base)).result;
  tracker.setSteps([{ id: 'preflight', title: 'read the members and the control plane', status: 'done', detail: `${kubeDrift(before).length} drift lines` }, ...kubeSyncSteps(before.nodes.map((n) => n.node))]);
  if (!before.enabled) {
    tracker.progress.outcome = 'completed';
    tracker.progress.message = 'nothing to do: the inventory has no kubernetes section';
    return { desired: [], driftBefore: [], driftAfter: [], leftovers: [] };
  }
  tracker.progress.outcome = 'running';
  const leftovers = await syncControlPlane(tracker, base);
  const after = (await reads.inspectKube(base)).result;
  tracker.progress.outcome = 'completed';
  tracker.progress.message = kubeDrift(after).length ? `drift left: ${kubeDrift(after).join('; ')}` : `every apiserver uses ${after.desired.join(',')}`;
  return { desired: after.desired, driftBefore: kubeDrift(before), driftAfter: kubeDrift(after), leftovers };
}
