import { createHash } from 'node:crypto';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import { createJsonSchemaTransform, createJsonSchemaTransformObject, serializerCompiler, validatorCompiler, hasZodFastifySchemaValidationErrors, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { hasRole, type Actor } from '../domain/identity';
import { ClusterMetrics } from '../service/metrics';
import { RUNBOOKS, type RunbookName } from '../service/catalogue';
import { ServiceError, type ServiceErrorKind } from '../service/errors';
import type { RunService } from '../service/runs';
import type { Credentials } from './auth';
import type { LocalSessions } from './localSessions';
import {
  apiSchemas, ApprovalRecordSchema, ClusterStatusSchema, DoctorRowSchema, StartQuery, ApproveBody, CancelBody, ClusterParams, ProposalParams, ErrorSchema, IdempotencyHeaders, OperationSchema, RecoveryPointSchema, ProposalsSchema, RejectBody, RejectionRecordSchema,
  RunbookListSchema, RunParams, RunSummarySchema, WhoAmISchema,
} from './schemas';

declare module 'fastify' {
  interface FastifyRequest { actor: Actor }
}

const STATUS: Record<ServiceErrorKind, number> = { invalid: 400, unauthenticated: 401, forbidden: 403, 'not-found': 404, conflict: 409, unavailable: 503 };
const errors = { 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema, 429: ErrorSchema, 503: ErrorSchema };
const security = [{ bearer: [] }];

/** What the API serves with: the service layer, how callers are authenticated, Fastify's options (TLS, logger). */
export interface ApiDeps {
  service: RunService;
  /** Turns a request's credentials into an actor (api/auth.ts Authenticator; the local CLI service's sessions). */
  auth: { authenticate(c: Credentials): Promise<Actor> };
  /** The local CLI service (api/local.ts): serves the session handshake of api/localSessions.ts. */
  local?: LocalSessions;
  fastify?: FastifyServerOptions & { https?: unknown };
  /** Seconds between progress reads of a server-sent event stream (default 1). */
  eventIntervalSeconds?: number;
  /** Requests per minute per credential (or per address without one) before 429 (default 600). */
  rateLimitPerMinute?: number;
  /** Longest an event stream lasts (s, default 900; also never past the credential's expiry). */
  maxStreamSeconds?: number;
  /** Event streams one principal may hold at once (default 4). */
  maxStreamsPerPrincipal?: number;
}

/**
 * The HTTP API (`etcd-runbooks api`): Fastify 5 with the same zod schemas the CLI validates with
 * (fastify-type-provider-zod) and an OpenAPI 3 document generated from them (`GET /openapi.json`).
 * Runs are long-running operations: `POST /v1/clusters/{cluster}/runbooks/{runbook}` answers 202
 * with the operation, `GET .../runs/{runId}` reads it, `GET .../runs/{runId}/events` streams it
 * (server-sent events), `POST .../runs/{runId}:approve|:reject|:cancel` decide. `Idempotency-Key`
 * on a POST makes a repeat have the effect of one (service/runs.ts). Every route but the document
 * needs authentication (api/auth.ts); roles are checked by the service. 503 with Retry-After
 * while Temporal does not answer.
 */
export async function buildApi(deps: ApiDeps): Promise<FastifyInstance> {
  const streams = new Map<string, number>();
  const app = Fastify({
    logger: false,
    // A malformed or over-long URL is a bad request like any other, answered in the API's error shape.
    frameworkErrors: (err, _req, reply) => { void (reply as FastifyReply).code(400).send({ error: { kind: 'invalid', message: err.message } }); },
    ...(deps.fastify as FastifyServerOptions),
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'etcd-runbooks', version: '0.5.0', description: 'Start, approve and follow etcd runbooks (durable Temporal workflows).' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'OIDC JWT or a static token' } } },
    },
    transform: createJsonSchemaTransform({ schemaRegistry: apiSchemas }),
    transformObject: createJsonSchemaTransformObject({ schemaRegistry: apiSchemas }),
  });
  app.decorateRequest('actor', null as unknown as Actor);
  // Per credential (a hash of the Authorization header) or, without one, per address: guessing
  // tokens and flooding Temporal through the API both stop here.
  await app.register(rateLimit, {
    max: deps.rateLimitPerMinute ?? 600, timeWindow: '1 minute',
    keyGenerator: (req) => (req.headers.authorization ? `auth:${createHash('sha256').update(req.headers.authorization).digest('hex')}` : `ip:${req.ip}`),
    errorResponseBuilder: (_req, ctx) => ({ statusCode: 429, error: { kind: 'rate-limited', message: `more than ${ctx.max} requests a minute; retry in ${Math.ceil(ctx.ttl / 1000)} s` } }),
  });

  app.setErrorHandler((err, _req, reply) => {
    if (err instanceof ServiceError) {
      if (err.kind === 'unavailable') reply.header('Retry-After', '5');
      if (err.kind === 'unauthenticated') reply.header('WWW-Authenticate', 'Bearer');
      return reply.code(STATUS[err.kind]).send({ error: { kind: err.kind, message: err.message } });
    }
    if (hasZodFastifySchemaValidationErrors(err)) {
      const detail = err.validation.map((v) => `${err.validationContext ?? 'request'}${v.instancePath ? v.instancePath.replace(/\//g, '.') : ''}: ${v.message}`).join('; ');
      return reply.code(400).send({ error: { kind: 'invalid', message: detail } });
    }
    const code = (err as { statusCode?: number }).statusCode;
    const body = err as unknown as { error?: { kind?: string; message?: string } };
    if (code === 429 && body.error) return reply.code(429).send({ error: { kind: body.error.kind ?? 'rate-limited', message: body.error.message ?? 'too many requests' } });
    if (code && code >= 400 && code < 500) return reply.code(code).send({ error: { kind: 'invalid', message: (err as Error).message } });
    return reply.code(500).send({ error: { kind: 'internal', message: (err as Error).message } });
  });

  const authenticate = async (req: FastifyRequest): Promise<void> => {
    req.actor = await deps.auth.authenticate({ authorization: req.headers.authorization, socket: req.raw.socket });
  };

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  app.get('/v1/whoami', { onRequest: authenticate, schema: { summary: 'the caller as authenticated, with roles', security, response: { 200: WhoAmISchema, ...errors } } },
    async (req) => req.actor);

  if (deps.local) {
    const local = deps.local;
    app.post('/v1/local/challenge', { schema: { hide: true, body: z.strictObject({}).optional() } }, async () => local.challenge());
    app.post('/v1/local/session', { schema: { hide: true, body: z.strictObject({ nonce: z.string().regex(/^[0-9a-f]{64}$/) }) } }, async (req) => local.session(req.body.nonce));
  }

  // Prometheus scrapes with a viewer token (authorization.credentials_file): the metrics name clusters and nodes.
  const metrics = new ClusterMetrics(deps.service);
  // Not in the OpenAPI document: Prometheus' text format for a scraper, not the JSON API (docs/operations.md "Metrics").
  app.get('/metrics', { onRequest: authenticate, schema: { hide: true } },
    async (req, reply) => {
      if (!hasRole(req.actor.roles, 'viewer')) throw new ServiceError('forbidden', `${req.actor.principal} may not read metrics (needs role viewer)`);
      const text = await metrics.render(req.actor);
      return reply.type(metrics.contentType).send(text);
    });

  app.get('/v1/runbooks', { onRequest: authenticate, schema: { summary: 'the runbooks this API starts', security, response: { 200: RunbookListSchema, ...errors } } },
    async () => Object.entries(RUNBOOKS).map(([name, e]) => ({ name, workflow: e.workflow, summary: e.summary, path: `/v1/clusters/{cluster}/runbooks/${name}` })));

  for (const [name, entry] of Object.entries(RUNBOOKS) as Array<[RunbookName, (typeof RUNBOOKS)[RunbookName]]>) {
    app.post(`/v1/clusters/:cluster/runbooks/${name}`, {
      onRequest: authenticate,
      schema: {
        summary: `start ${name}: ${entry.summary}`, security, params: ClusterParams, headers: IdempotencyHeaders, body: entry.body, querystring: StartQuery,
        response: { 200: OperationSchema, 202: OperationSchema, ...errors },
      },
    }, async (req, reply) => {
      const key = req.headers['idempotency-key'] as string | undefined;
      const { operation, created } = await deps.service.start(req.actor, name, req.params.cluster, { ...(req.body as Record<string, unknown>), ...(req.query.dryRun === 'true' ? { dryRun: true } : {}) }, { ...(key ? { idempotencyKey: key } : {}), approvedUpFront: req.query.approveUpFront === 'true' });
      reply.header('Location', `/v1/${operation.name}`);
      return reply.code(created ? 202 : 200).send(operation);
    });
  }

  app.get('/v1/clusters/:cluster/runs', {
    onRequest: authenticate,
    schema: { summary: 'runs of the cluster, newest first (from the visibility store)', security, params: ClusterParams,
      querystring: z.strictObject({ limit: z.coerce.number().int().min(1).max(500).default(50) }), response: { 200: z.array(RunSummarySchema), ...errors } },
  }, async (req) => deps.service.list(req.actor, req.params.cluster, req.query.limit));

  app.get('/v1/clusters/:cluster/recovery-point', {
    onRequest: authenticate,
    schema: { summary: 'the recovery point: the newest backup that passed a restore drill, and the alert when the newest drill failed', security, params: ClusterParams,
      response: { 200: RecoveryPointSchema, ...errors } },
  }, async (req) => deps.service.recoveryPoint(req.actor, req.params.cluster));

  app.get('/v1/clusters/:cluster/proposals', {
    onRequest: authenticate,
    schema: { summary: 'what the cluster\'s watch proposes (a runbook and its fields, with the evidence) and reports, open and recently closed', security, params: ClusterParams,
      response: { 200: ProposalsSchema, ...errors } },
  }, async (req) => deps.service.proposals(req.actor, req.params.cluster));

  app.post('/v1/clusters/:cluster/proposals/:proposal/accept', {
    onRequest: authenticate,
    schema: {
      summary: 'accept an open proposal: start its runbook with its fields as you (role operator), with its normal approvals and four-eyes', security,
      params: ProposalParams,
      headers: IdempotencyHeaders, response: { 200: OperationSchema, 202: OperationSchema, ...errors },
    },
  }, async (req, reply) => {
    const key = req.headers['idempotency-key'] as string | undefined;
    const { operation, created } = await deps.service.accept(req.actor, req.params.cluster, req.params.proposal, key ? { idempotencyKey: key } : {});
    reply.header('Location', `/v1/${operation.name}`);
    return reply.code(created ? 202 : 200).send(operation);
  });

  app.get('/v1/clusters/:cluster/status', {
    onRequest: authenticate,
    schema: { summary: 'members, leader, raft index, db size and health of each member (and the control plane\'s view), read now through the worker', security, params: ClusterParams,
      response: { 200: ClusterStatusSchema, ...errors } },
  }, async (req) => (await deps.service.status(req.actor, req.params.cluster)) as unknown as z.infer<typeof ClusterStatusSchema>);

  app.get('/v1/clusters/:cluster/doctor', {
    onRequest: authenticate,
    schema: { summary: 'every node checked before any runbook (SSH, member serving, unit or manifest, etcd tools, curl, disk, sshd MaxSessions, clock, certificates, backup host, control planes), read now through the worker', security, params: ClusterParams,
      response: { 200: z.array(DoctorRowSchema), ...errors } },
  }, async (req) => deps.service.doctor(req.actor, req.params.cluster));

  app.get('/v1/clusters/:cluster/runs/latest', {
    onRequest: authenticate,
    schema: { summary: "the cluster's newest runbook run as an operation", security, params: ClusterParams, response: { 200: OperationSchema, ...errors } },
  }, async (req) => deps.service.get(req.actor, req.params.cluster));

  app.get('/v1/clusters/:cluster/runs/:runId', {
    onRequest: authenticate,
    schema: { summary: 'a run as an operation: plan, progress, waiting step, result or error', security, params: RunParams, response: { 200: OperationSchema, ...errors } },
  }, async (req) => deps.service.get(req.actor, req.params.cluster, req.params.runId));

  app.get('/v1/clusters/:cluster/runs/:runId/events', {
    onRequest: authenticate,
    schema: { summary: 'server-sent events: the operation each time it changes, until done', security, params: RunParams, produces: ['text/event-stream', 'application/json'], response: { ...errors } },
  }, async (req, reply) => streamOperation(deps, req.actor, req.params.cluster, req.params.runId, req, reply, streams));

  app.post('/v1/clusters/:cluster/runs/:runId/approve', {
    onRequest: authenticate,
    schema: { summary: 'approve the waiting step (approver role; four-eyes: not the requester)', security, params: RunParams, headers: IdempotencyHeaders, body: ApproveBody,
      response: { 200: ApprovalRecordSchema, ...errors } },
  }, async (req) => deps.service.approve(req.actor, req.params.cluster, req.body.step, { runId: req.params.runId, ...idem(req) }));

  app.post('/v1/clusters/:cluster/runs/:runId/reject', {
    onRequest: authenticate,
    schema: { summary: 'reject the waiting step: the run stops at its safe point', security, params: RunParams, headers: IdempotencyHeaders, body: RejectBody,
      response: { 200: RejectionRecordSchema, ...errors } },
  }, async (req) => deps.service.reject(req.actor, req.params.cluster, req.body.step, req.body.reason, { runId: req.params.runId, ...idem(req) }));

  app.post('/v1/clusters/:cluster/runs/:runId/cancel', {
    onRequest: authenticate,
    schema: { summary: 'cancel the run: undone before its point of no return, else stopped at its safe point', security, params: RunParams, headers: IdempotencyHeaders, body: CancelBody,
      response: { 202: RunSummarySchema, ...errors } },
  }, async (req, reply) => reply.code(202).send(await deps.service.cancel(req.actor, req.params.cluster, req.body.reason, req.params.runId)));

  return app;
}

const idem = (req: FastifyRequest): { idempotencyKey?: string } => {
  const key = req.headers['idempotency-key'];
  return typeof key === 'string' ? { idempotencyKey: key } : {};
};

/**
 * Writes `event: operation` with the operation as JSON whenever it changes; ends when it is done,
 * the client goes, the stream reaches maxStreamSeconds or the credential expires (`event: end`
 * says which: the client reconnects with a valid credential). A principal holds at most
 * maxStreamsPerPrincipal streams at once (429 beyond).
 */
async function streamOperation(deps: ApiDeps, actor: Actor, cluster: string, runId: string, req: FastifyRequest, reply: FastifyReply, streams: Map<string, number>): Promise<void> {
  const held = streams.get(actor.principal) ?? 0;
  if (held >= (deps.maxStreamsPerPrincipal ?? 4)) {
    return reply.code(429).send({ error: { kind: 'rate-limited', message: `${actor.principal} already holds ${held} event streams; close one first` } }) as unknown as void;
  }
  // Counted before the first await: streams opened at the same moment must not all see the old count.
  streams.set(actor.principal, held + 1);
  const release = () => {
    const n = (streams.get(actor.principal) ?? 1) - 1;
    if (n > 0) streams.set(actor.principal, n); else streams.delete(actor.principal);
  };
  let first: Awaited<ReturnType<RunService['get']>>;
  try {
    first = await deps.service.get(actor, cluster, runId); // errors answer as JSON before the stream starts
  } catch (e) {
    release();
    throw e;
  }
  const expiresAt = (actor as Actor & { expiresAt?: number }).expiresAt;
  const deadline = Math.min(Date.now() + (deps.maxStreamSeconds ?? 900) * 1000, expiresAt ?? Infinity);
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
  let closed = false;
  req.raw.on('close', () => { closed = true; });
  let last = '';
  let op = first;
  try {
    for (let id = 1; !closed; id++) {
      const data = JSON.stringify(op);
      if (data !== last) { res.write(`id: ${id}\nevent: operation\ndata: ${data}\n\n`); last = data; }
      if (op.done) break;
      if (Date.now() >= deadline) {
        const why = expiresAt !== undefined && deadline === expiresAt ? 'the credential expired' : 'the stream reached its time limit';
        res.write(`event: end\ndata: ${JSON.stringify({ reason: why })}\n\n`);
        break;
      }
      await new Promise((r) => setTimeout(r, Math.min((deps.eventIntervalSeconds ?? 1) * 1000, Math.max(0, deadline - Date.now()))));
      try {
        op = await deps.service.get(actor, cluster, runId);
      } catch (e) {
        res.write(`event: error\ndata: ${JSON.stringify({ message: (e as Error).message })}\n\n`);
        break;
      }
    }
  } finally {
    release();
    res.end();
  }
}
