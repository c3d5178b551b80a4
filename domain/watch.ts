import type { EtcdLiveness } from './liveness';
import { quorumSize } from './quorum';
import { healthFindings, leaderOf, HEALTH } from './watchHealth';
import { nodeFindings } from './watchNode';
import { recoveryFindings } from './watchRecovery';
import { kubeFindings } from './watchKube';

/**
 * One probe of a cluster by its watch: each inventory node as the pre-flight judges it (etcd
 * asked over the network, SSH judged apart: domain/liveness.ts), the raised alarms, and the
 * endpoints serving another cluster (domain/oneCluster.ts). `at` in ms since the epoch (the
 * activity's clock). `error`: the probe itself could not read (no node answered SSH, or etcdctl
 * failed everywhere): it says so and never counts as a member lost.
 */
export interface WatchProbe {
  at: number;
  members: WatchedMember[];
  /** Inventory nodes holding no member whose SSH answers: candidates to replace a lost member on. */
  spare: string[];
  alarms: { noSpace: string[]; corrupt: string[] };
  foreign: { node?: string; endpoint: string; reason: string }[];
  error?: string;
  /** A runbook run going on the cluster (read from Temporal): new proposals are held until it ends. */
  running?: { workflow: string; since: number };
  /**
   * The recovery point against the inventory's objective, when it names one: when the newest
   * backup that passed a restore drill was taken (ms), and the newest drill when it failed after it.
   */
  recovery?: { objectiveHours: number; takenAt?: number; drillFailed?: { at: number; message: string } };
  /** The control plane's drift from the voting members (domain/kubeSync.ts kubeDrift lines), when the inventory names control planes. */
  kubeDrift?: string[];
}

/** One member's node in a probe: etcd's judgement, SSH apart, and what its status said. */
export interface WatchedMember {
  node: string;
  learner: boolean;
  etcd: EtcdLiveness;
  ssh: boolean;
  raftIndex?: number;
  /** Its endpoint serves another cluster (WatchProbe.foreign): counted as a voter that does not answer, proposed for by its own finding. */
  foreign?: boolean;
  /** From its status, when it gave one: its member ID and the leader it follows (hex; '0': none), its etcd version. */
  memberId?: string;
  leader?: string;
  version?: string;
  /** Its database file: size and in use (bytes), and its backend quota (bytes) when known. */
  db?: { size: number; inUse: number; quota?: number };
  /** Its node's slow-changing facts (read at most every 5 minutes), when SSH answered. */
  facts?: NodeFacts;
}

/**
 * A member node's facts read over SSH at most every few minutes (activities/etcd/watchNodeFacts.ts):
 * when (`at`, ms), each certificate's leaf expiry (ms since the epoch; roles ca, server, peer,
 * client), free bytes on the data dir's filesystem, the node's clock against the worker's (ms, ± error).
 * A fact that could not be read is absent.
 */
export interface NodeFacts {
  at: number;
  certs: { role: 'ca' | 'server' | 'peer' | 'client'; notAfter: number }[];
  dataDirFree?: number;
  clock?: { offsetMs: number; errorMs: number };
}

/** What a finding proposes: a runbook of the catalogue (service/catalogue.ts) and its fields. */
export interface ProposedRun { runbook: string; fields: Record<string, unknown> }

/**
 * A condition the watch noticed in one probe. `key` identifies it across probes (e.g.
 * `member-silent:node2`); `evidence` is what a person reads; `propose` is absent for a report
 * (an SSH-only loss, a lagging member, a CORRUPT alarm: nothing a runbook of ours should do
 * without a person looking first).
 */
export interface Finding { key: string; node?: string; evidence: string; propose?: ProposedRun; thresholdSeconds: number }

/**
 * How long a finding must last before it becomes a proposal (seconds). A member silent for a
 * minute is past a restart (a restart of etcd takes seconds; a node reboot about a minute).
 */
export const THRESHOLDS = { memberSilent: 60, quorumLost: 60, noSpace: 0, corrupt: 0, foreign: 30, sshOnly: 60, learnerStuck: 1200 } as const;

const describeMembers = (ms: readonly WatchedMember[]) => ms.map((m) => m.node).join(', ');

/**
 * The findings of one probe, pure. A voter is lost when etcd does not answer for it (silent or
 * isolated: never because SSH fails); while the others keep a quorum that proposes replace (on a
 * spare node when one answers SSH, else the same node once repaired); without a quorum,
 * recover-quorum naming the most advanced survivor by raft index. Serving etcd with SSH failing
 * is a report, and so is a member whose ports accept connections without a status (it may be part
 * of a live quorum). NOSPACE proposes defrag (which disarms it); CORRUPT is a report (a restore is a
 * person's call). A foreign endpoint proposes removing its member (then cleanup and add-member).
 * Source: reference 000 §2 (quorum), §5-§8 (which procedure for which failure); reference 001
 * (force-new-cluster on the most advanced survivor only after quorum is lost).
 */
export function findingsOf(p: WatchProbe, leaderChanges: readonly number[] = []): Finding[] {
  if (p.error) return [];
  const voters = p.members.filter((m) => !m.learner);
  const answering = voters.filter((m) => m.etcd === 'serving' || m.etcd === 'listening');
  const lost = voters.filter((m) => !m.foreign && (m.etcd === 'silent' || m.etcd === 'isolated'));
  const q = quorumSize(Math.max(1, voters.length));
  const out: Finding[] = [];
  if (voters.length && answering.length < q) {
    const survivor = [...answering].sort((a, b) => (b.raftIndex ?? -1) - (a.raftIndex ?? -1))[0];
    out.push({
      key: 'quorum-lost', thresholdSeconds: THRESHOLDS.quorumLost,
      evidence: `quorum lost: ${answering.length} of ${voters.length} voters answer (${describeMembers(answering) || 'none'}), ${q} needed${survivor ? `; most advanced survivor ${survivor.node} (raft index ${survivor.raftIndex ?? 'unknown'})` : ''}`,
      propose: { runbook: 'recover-quorum', fields: { members: voters.map((m) => m.node) } },
    });
  } else {
    for (const m of lost) {
      const replacement = p.spare[0];
      out.push({
        key: `member-silent:${m.node}`, node: m.node, thresholdSeconds: THRESHOLDS.memberSilent,
        evidence: `${m.node} silent (etcd ${m.etcd === 'isolated' ? 'reachable only from its own node' : 'does not answer'}; SSH ${m.ssh ? 'answers' : 'fails too'}), ${answering.length} of ${voters.length} voters serving`,
        propose: { runbook: 'replace', fields: { failed: m.node, ...(replacement ? { replacement } : {}) } },
      });
    }
  }
  for (const m of p.members.filter((x) => !x.ssh && x.etcd === 'serving')) {
    out.push({ key: `ssh-only:${m.node}`, node: m.node, thresholdSeconds: THRESHOLDS.sshOnly, evidence: `${m.node}: SSH fails, its etcd serves: nothing to do to the cluster; the node needs a look` });
  }
  for (const m of p.members.filter((x) => x.etcd === 'listening')) {
    out.push({ key: `no-status:${m.node}`, node: m.node, thresholdSeconds: THRESHOLDS.memberSilent, evidence: `${m.node}: its etcd ports accept connections but it gives no status (frozen, or its TLS stalls); SSH ${m.ssh ? 'answers' : 'fails'}: counted as possibly alive, nothing proposed` });
  }
  if (p.alarms.noSpace.length) {
    out.push({ key: 'nospace', thresholdSeconds: THRESHOLDS.noSpace, evidence: `NOSPACE alarm raised by ${p.alarms.noSpace.join(', ')}: the cluster refuses writes`, propose: { runbook: 'defrag', fields: {} } });
  }
  if (p.alarms.corrupt.length) {
    out.push({ key: 'corrupt', thresholdSeconds: THRESHOLDS.corrupt, evidence: `CORRUPT alarm raised by ${p.alarms.corrupt.join(', ')}: compare hashkv and decide on a restore` });
  }
  for (const f of p.foreign) {
    const node = f.node ?? f.endpoint;
    out.push({
      key: `foreign:${node}`, node, thresholdSeconds: THRESHOLDS.foreign, evidence: `${node} ${f.reason}`,
      ...(f.node ? { propose: { runbook: 'remove-member', fields: { node: f.node } } } : {}),
    });
  }
  // Without a quorum there is no leader to judge by: the quorum loss is the finding.
  if (!out.some((f) => f.key === 'quorum-lost')) out.push(...healthFindings(p, leaderChanges));
  out.push(...nodeFindings(p), ...recoveryFindings(p), ...kubeFindings(p));
  return out;
}

/** A proposal: a finding that lasted past its threshold, with the run it proposes and when. Times in ms since the epoch. */
export interface Proposal {
  id: string;
  key: string;
  runbook: string;
  fields: Record<string, unknown>;
  evidence: string;
  /** When the finding was first seen, and when it became a proposal. */
  since: number;
  openedAt: number;
  status: 'open' | 'resolved';
  closedAt?: number;
}

/** A report: a finding past its threshold that proposes no run (SSH-only, CORRUPT). */
export interface Report { key: string; evidence: string; since: number; openedAt: number; status: 'open' | 'resolved'; closedAt?: number }

/** What a watch keeps between probes (carried over on continue-as-new): bounded by the findings' keys. */
export interface WatchState {
  /** First and last probe that saw each finding, by key. */
  seen: Record<string, { since: number; last: number }>;
  proposals: Proposal[];
  reports: Report[];
  /** Probes done, and those that failed (the probe itself, not a member). */
  probes: number;
  failedProbes: number;
  /** The leader (member ID, hex) the last probe that saw one found, and when the leader changed (ms, within HEALTH.leaderWindowMs). */
  leader?: string;
  leaderChanges?: number[];
}

export const EMPTY_WATCH: WatchState = { seen: {}, proposals: [], reports: [], probes: 0, failedProbes: 0 };

/** How many closed proposals and reports a watch keeps (the newest): the state stays bounded. */
const KEEP_CLOSED = 20;

/** What one probe changed: proposals and reports opened, updated (evidence changed) and closed. */
export interface WatchChange { opened: (Proposal | Report)[]; updated: (Proposal | Report)[]; closed: (Proposal | Report)[] }

/**
 * Advances the watch by one probe, pure: a finding seen in a row for at least its threshold opens
 * a proposal (or a report) once; while it lasts its evidence follows the probes; when a probe that
 * read the cluster no longer sees it, it closes as resolved. While a runbook runs on the cluster
 * (`probe.running`) no proposal opens (reports do); one held opens at the first probe after the
 * run, its threshold long passed. A failed probe changes nothing but its count (a probe failure
 * is not a member failure). Proposal ids are `<key>@<since>`: stable
 * across replays and continue-as-new.
 */
export function advanceWatch(state: WatchState, probe: WatchProbe): { state: WatchState; change: WatchChange } {
  const change: WatchChange = { opened: [], updated: [], closed: [] };
  if (probe.error) return { state: { ...state, probes: state.probes + 1, failedProbes: state.failedProbes + 1 }, change };
  const leader = leaderOf(probe);
  const changed = leader !== undefined && state.leader !== undefined && leader !== state.leader;
  const leaderChanges = [...(state.leaderChanges ?? []), ...(changed ? [probe.at] : [])].filter((t) => probe.at - t <= HEALTH.leaderWindowMs);
  const findings = findingsOf(probe, leaderChanges);
  const seen: WatchState['seen'] = {};
  for (const f of findings) seen[f.key] = { since: state.seen[f.key]?.since ?? probe.at, last: probe.at };
  const proposals = state.proposals.map((p) => ({ ...p }));
  const reports = state.reports.map((r) => ({ ...r }));
  for (const f of findings) {
    const since = seen[f.key].since;
    const list: (Proposal | Report)[] = f.propose ? proposals : reports;
    const open = list.find((x) => x.key === f.key && x.status === 'open');
    if (open) {
      if (open.evidence !== f.evidence) { open.evidence = f.evidence; change.updated.push(open); }
      continue;
    }
    if (probe.at - since < f.thresholdSeconds * 1000) continue;
    // While a runbook runs on the cluster (it may be fixing this, and a second run would be refused), nothing new is proposed.
    if (f.propose && probe.running) continue;
    if (f.propose) {
      const p: Proposal = { id: `${f.key}@${since}`, key: f.key, runbook: f.propose.runbook, fields: f.propose.fields, evidence: f.evidence, since, openedAt: probe.at, status: 'open' };
      proposals.push(p);
      change.opened.push(p);
    } else {
      const r: Report = { key: f.key, evidence: f.evidence, since, openedAt: probe.at, status: 'open' };
      reports.push(r);
      change.opened.push(r);
    }
  }
  for (const x of [...proposals, ...reports]) {
    if (x.status === 'open' && !seen[x.key]) { x.status = 'resolved'; x.closedAt = probe.at; change.closed.push(x); }
  }
  const bounded = <T extends { status: string }>(xs: T[]) => [...xs.filter((x) => x.status === 'open'), ...xs.filter((x) => x.status !== 'open').slice(-KEEP_CLOSED)];
  const leaderState = { ...((leader ?? state.leader) !== undefined ? { leader: leader ?? state.leader } : {}), ...(leaderChanges.length ? { leaderChanges } : {}) };
  return { state: { seen, proposals: bounded(proposals), reports: bounded(reports), probes: state.probes + 1, failedProbes: state.failedProbes, ...leaderState }, change };
}
