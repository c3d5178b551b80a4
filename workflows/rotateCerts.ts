import { workflowInfo } from '@temporalio/workflow';
import { RotateCertsInputSchema, type RotateCertsInput } from '../domain/inputs';
import { long, reads, undo } from './proxies';
import { verifyPhase } from './clusterPhases';
import { planOf, planOnly, runPhases, type DryRunResult, type Phase } from './phases';
import { refuse, runTag, startRunbook } from './runbook';

/** What a run renewed on one node: each certificate's expiry before and after (ISO-8601). */
export interface RotatedNode { node: string; renewed: { kind: string; before: string; after: string }[] }
export interface RotateCertsResult { nodes: RotatedNode[] }

const SOURCE = 'etcd docs "Transport security model"; kubeadm docs "Certificate Management with kubeadm" (renew with the same key and SANs)';

/**
 * Renews every member's server, peer and client certificates before they expire, one member at a
 * time in inventory order: the same keys and SANs, signed on the worker by the inventory's CA (its
 * key never leaves the worker host, nor enters the run's input or history), each written beside the
 * old one and swapped by a rename; etcd reads its certificate files on every TLS handshake, so no
 * member restarts. On kubeadm, `kubeadm certs renew` renews them (etcd-server, etcd-peer,
 * etcd-healthcheck-client, apiserver-etcd-client: new keys, the same SANs) and the node's
 * kube-apiserver is restarted for its etcd client certificate. After each member, what its client
 * and peer URLs serve is read on a new handshake. A failure before the last member puts back every
 * certificate this run replaced. Refused at pre-flight: a member not healthy, a served certificate
 * that cannot be read, no CA (systemd) or a PKI not in kubeadm's layout (kubeadm). Sources: etcd
 * docs "Transport security model"; kubeadm docs "Certificate Management with kubeadm".
 */
export async function rotateCerts(raw: RotateCertsInput): Promise<RotateCertsResult | DryRunResult> {
  const { input, base, tracker, gate } = startRunbook('rotateCerts', RotateCertsInputSchema, raw);
  const report = (await reads.inspectCerts(base)).result;
  const tag = runTag('certs', workflowInfo().runId);
  const done: RotatedNode[] = [];
  const nodes = report.members.map((m) => m.node);
  const expiry = (c: unknown) => ((c as { notAfter?: string })?.notAfter ?? 'unread');
  const phases: Phase[] = [
    ...report.members.map((m, i): Phase => ({
      id: `rotate:${m.node}`, node: m.node, source: SOURCE,
      title: `renew ${m.node}'s server, peer and client certificates ${report.validity ?? `for ${input.days} days`} (served now: client URL until ${expiry(m.server)}, peer URL until ${expiry(m.peer)}); check what it serves`,
      ...(i === 0 ? { approval: { step: 'rotate', question: () => `renew the certificates of ${nodes.length} member(s) of ${base.cluster}, one at a time` } } : {}),
      undo: [{
        id: `restore-certs:${m.node}`, title: `put back ${m.node}'s previous certificates`, node: m.node, side: 'node',
        run: async () => { const r = (await undo.restoreMemberCerts({ ...base, node: m.node, tag })).result; return r.restored.length ? `restored ${r.restored.join(', ')}` : 'nothing to put back'; },
        leftover: { what: 'renewed certificates in place (valid, signed by the same CA)', fix: 'nothing needed; the previous ones are kept beside them as <file>.before-' + tag },
      }],
      ...(i === report.members.length - 1 ? {
        pointOfNoReturn: 'done' as const,
        safePoint: () => ({ where: 'every member serves its renewed certificates; the final check did not pass: check with `etcd-runbooks status`' }),
      } : {}),
      run: async () => {
        const r = (await long.rotateMemberCerts({ ...base, node: m.node, days: input.days, tag })).result;
        done.push({ node: r.node, renewed: r.renewed.map((x) => ({ kind: x.kind, before: x.before, after: x.after })) });
        return `${r.renewed.map((x) => `${x.kind} ${x.before.slice(0, 10)} -> ${x.after.slice(0, 10)}${x.already ? ' (already)' : ''}`).join(', ')}; serves client ${r.served.server.notAfter.slice(0, 10)}, peer ${r.served.peer.notAfter.slice(0, 10)}`;
      },
    })),
    verifyPhase(base, 'every member healthy over the renewed certificates, equal hashkv', () => undefined),
  ];
  tracker.setSteps([{ id: 'preflight', title: 'pre-flight: every member healthy, its served certificates read, what renews them (the CA on the worker, or kubeadm)', status: 'done' }, ...planOf(phases)]);
  const problems = [
    ...report.problems,
    ...report.members.filter((m) => !m.healthy).map((m) => `${m.node}: not healthy`),
    ...report.members.flatMap((m) => ['server', 'peer'].flatMap((k) => {
      const e = (m as Record<string, unknown>)[k] as { error?: string } | undefined;
      return e?.error ? [`${m.node}: its ${k === 'server' ? 'client' : 'peer'} URL's certificate could not be read: ${e.error}`] : [];
    })),
    ...report.members.flatMap((m) => ('error' in m && m.error ? [`${m.node}: ${m.error}`] : [])),
  ];
  if (problems.length) refuse(tracker, problems);
  if (input.dryRun) return planOnly(tracker, phases, { voters: nodes.length, serving: nodes.length });
  tracker.progress.outcome = 'running';
  await runPhases(tracker, gate, phases, (n) => `the previous certificates of ${n.join(', ')} are back in place`);
  tracker.progress.outcome = 'completed';
  tracker.progress.message = `${done.length} member(s) serve renewed certificates`;
  return { nodes: done };
}
