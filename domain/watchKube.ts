import type { Finding, WatchProbe } from './watch';

/** How long drift must last before it is proposed or reported (seconds): a runbook's own kube phase takes about that. */
export const KUBE_DRIFT_SECONDS = 120;

/**
 * Findings from the control plane's drift (WatchProbe.kubeDrift, lines of domain/kubeSync.ts
 * kubeDrift), pure: a place that lists members missing or extra (an apiserver still pointing at a
 * removed member) proposes `kube-sync`; a control-plane node not reachable, an apiserver not
 * running or not ready, or an unreadable ConfigMap is a report (kube-sync cannot fix those).
 * Source: the reference's control-plane steps (reference 001 "kube-apiserver --etcd-servers";
 * 003 §6, cm-kubeadm-manage).
 */
export function kubeFindings(p: WatchProbe): Finding[] {
  const lines = p.kubeDrift ?? [];
  const fixable = lines.filter((l) => /: (missing|extra) /.test(l));
  const other = lines.filter((l) => !fixable.includes(l));
  const out: Finding[] = [];
  if (fixable.length) out.push({ key: 'kube-drift', thresholdSeconds: KUBE_DRIFT_SECONDS, propose: { runbook: 'kube-sync', fields: {} }, evidence: `the control plane does not list the voting members: ${fixable.join('; ')}` });
  if (other.length) out.push({ key: 'control-plane', thresholdSeconds: KUBE_DRIFT_SECONDS, evidence: `control plane: ${other.join('; ')}` });
  return out;
}
