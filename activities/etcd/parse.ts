import { parse as parseLossless, isInteger } from 'lossless-json';
import { z } from 'zod';
import { memberIdFrom, type MemberId } from '../../domain/memberId';
import type { Member } from '../../domain/members';

/**
 * Parsers for `etcdctl -w json` output (etcd 3.4). etcdctl prints uint64 IDs as bare JSON numbers,
 * which JSON.parse would round (lab notes), so the text is parsed losslessly: integers become
 * bigint, and IDs become hex MemberId strings. Counters (revision, raft index, db size) become
 * numbers after a check that they are exactly representable.
 */
export function parseJsonLossless(text: string): unknown {
  return parseLossless(text, null, (value: string) => (isInteger(value) ? BigInt(value) : Number(value)));
}

const id = z.bigint().transform((v) => memberIdFrom(v));
/** etcd omits zero values: a status with no leader (quorum lost) has no `leader` field. '0' means none. */
const idOrZero = z.bigint().default(0n).transform((v) => memberIdFrom(v));
const count = z.union([z.bigint(), z.number()]).transform((v, ctx) => {
  const n = Number(v);
  if (!Number.isSafeInteger(n)) ctx.addIssue({ code: 'custom', message: `counter ${v} is not exactly representable` });
  return n;
});

const Header = z.object({ cluster_id: id, member_id: id, raft_term: count, revision: count.optional() });

const MemberJson = z.object({
  ID: id,
  name: z.string().default(''),
  peerURLs: z.array(z.string()).default([]),
  clientURLs: z.array(z.string()).default([]),
  isLearner: z.boolean().default(false),
});

const MemberListJson = z.object({ header: Header, members: z.array(MemberJson) });

/** `member list -w json` -> cluster ID and members (unstarted members have name ''). */
export function parseMemberList(text: string): { clusterId: MemberId; memberId: MemberId; members: Member[] } {
  const r = parseWith(MemberListJson, text, 'member list');
  return { clusterId: r.header.cluster_id, memberId: r.header.member_id, members: r.members.map((m) => ({ id: m.ID, name: m.name, peerURLs: m.peerURLs, clientURLs: m.clientURLs, isLearner: m.isLearner })) };
}

/** `member add -w json` -> the new member's ID and the member list as etcd sees it after the add. */
export function parseMemberAdd(text: string): { memberId: MemberId; members: Member[] } {
  const r = parseWith(z.object({ header: Header, member: MemberJson, members: z.array(MemberJson) }), text, 'member add');
  return { memberId: r.member.ID, members: r.members.map((m) => ({ id: m.ID, name: m.name, peerURLs: m.peerURLs, clientURLs: m.clientURLs, isLearner: m.isLearner })) };
}

/** One member's view from `endpoint status`. */
export interface EndpointStatus {
  endpoint: string;
  memberId: MemberId;
  clusterId: MemberId;
  leader: MemberId;
  version: string;
  dbSize: number;
  dbSizeInUse: number;
  revision: number;
  raftTerm: number;
  raftIndex: number;
  raftAppliedIndex: number;
  isLearner: boolean;
  /** The member's backend quota in bytes (`--quota-backend-bytes`); etcd 3.6 reports it, earlier versions do not. */
  dbSizeQuota?: number;
}

const StatusJson = z.array(z.object({
  Endpoint: z.string(),
  Status: z.object({
    header: Header,
    version: z.string(),
    dbSize: count,
    dbSizeInUse: count.default(0),
    leader: idOrZero,
    raftIndex: count,
    raftTerm: count,
    raftAppliedIndex: count.default(0),
    isLearner: z.boolean().default(false),
    dbSizeQuota: count.optional(),
  }),
}));

/** `endpoint status -w json`; endpoints that failed are absent from the output (their errors go to stderr). */
export function parseEndpointStatus(text: string): EndpointStatus[] {
  return parseWith(StatusJson, text, 'endpoint status').map(({ Endpoint, Status: s }) => ({
    endpoint: Endpoint,
    memberId: s.header.member_id,
    clusterId: s.header.cluster_id,
    leader: s.leader,
    version: s.version,
    dbSize: s.dbSize,
    dbSizeInUse: s.dbSizeInUse,
    revision: s.header.revision ?? 0,
    raftTerm: s.raftTerm,
    raftIndex: s.raftIndex,
    raftAppliedIndex: s.raftAppliedIndex,
    isLearner: s.isLearner,
    ...(s.dbSizeQuota ? { dbSizeQuota: s.dbSizeQuota } : {}),
  }));
}

/** One endpoint's health from `endpoint health -w json` (failed endpoints are included with an error). */
export interface EndpointHealth { endpoint: string; health: boolean; error?: string }

export function parseEndpointHealth(text: string): EndpointHealth[] {
  const r = parseWith(z.array(z.object({ endpoint: z.string(), health: z.boolean(), error: z.string().optional() })), text, 'endpoint health');
  return r.map((h) => ({ endpoint: h.endpoint, health: h.health, ...(h.error ? { error: h.error } : {}) }));
}

/**
 * `endpoint hashkv -w json`: per endpoint, the KV hash at a revision (hash is a uint32, kept as a
 * decimal string) and the member's compacted revision (-1: never compacted).
 */
export interface EndpointHashKV { endpoint: string; memberId: MemberId; hash: string; revision: number; compactRevision: number }

export function parseHashKV(text: string): EndpointHashKV[] {
  const r = parseWith(z.array(z.object({ Endpoint: z.string(), HashKV: z.object({ header: Header, hash: z.union([z.bigint(), z.number()]), compact_revision: z.union([z.bigint(), z.number()]).transform(Number).optional() }) })), text, 'endpoint hashkv');
  return r.map((e) => ({ endpoint: e.Endpoint, memberId: e.HashKV.header.member_id, hash: String(e.HashKV.hash), revision: e.HashKV.header.revision ?? 0, compactRevision: e.HashKV.compact_revision ?? -1 }));
}

/** `snapshot status -w json` -> hash, revision, total keys, size. Does not detect corruption (lab notes). */
export function parseSnapshotStatus(text: string): { hash: string; revision: number; totalKey: number; totalSize: number } {
  const r = parseWith(z.object({ hash: z.union([z.bigint(), z.number()]), revision: count, totalKey: count, totalSize: count }), text, 'snapshot status');
  return { hash: String(r.hash), revision: r.revision, totalKey: r.totalKey, totalSize: r.totalSize };
}

function parseWith<S extends z.ZodType>(schema: S, text: string, what: string): z.output<S> {
  let doc: unknown;
  try {
    doc = parseJsonLossless(text.trim());
  } catch (e) {
    throw new Error(`etcdctl ${what}: output is not JSON (${(e as Error).message}): ${text.slice(0, 200)}`);
  }
  const r = schema.safeParse(doc);
  if (!r.success) throw new Error(`etcdctl ${what}: unexpected JSON: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return r.data;
}
