import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';

/** The Synapse version the tests run, from PyPI (scripts/python-tool.sh caches it). */
export const SYNAPSE_VERSION = '1.163.2';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)); });
  });
}

/**
 * A real Matrix homeserver for tests: Synapse from PyPI, SQLite, client API only on a loopback
 * port, no federation listener and no trusted key servers (it contacts nothing), rate limits
 * raised, registration only through the shared secret. `kill()` and `start()` again keep its data.
 */
export class Synapse {
  readonly dir = mkdtempSync(join(tmpdir(), 'synapse-'));
  url = '';
  private proc?: ChildProcess;
  private bin = '';
  private config = '';

  async start(): Promise<string> {
    if (!this.bin) {
      this.bin = execFileSync(join(__dirname, '..', '..', 'scripts', 'python-tool.sh'), ['matrix-synapse', SYNAPSE_VERSION], { encoding: 'utf8' }).trim();
      this.config = join(this.dir, 'hs.yaml');
      execFileSync(join(this.bin, 'python'), ['-m', 'synapse.app.homeserver', '--server-name', 'localhost', '--config-path', this.config,
        '--data-directory', this.dir, '--generate-config', '--report-stats=no'], { cwd: this.dir, stdio: 'ignore' });
      const port = await freePort();
      const cfg = YAML.parse(readFileSync(this.config, 'utf8'));
      const unlimited = { per_second: 1000, burst_count: 1000 };
      Object.assign(cfg, {
        listeners: [{ port, bind_addresses: ['127.0.0.1'], type: 'http', tls: false, x_forwarded: false, resources: [{ names: ['client'], compress: false }] }],
        database: { name: 'sqlite3', args: { database: join(this.dir, 'homeserver.db') } },
        registration_shared_secret: 'etcd-runbooks-test-secret', enable_registration: false, trusted_key_servers: [], suppress_key_server_warning: true,
        federation_domain_whitelist: [], report_stats: false, presence: { enabled: false }, url_preview_enabled: false,
        rc_message: unlimited, rc_login: { address: unlimited, account: unlimited, failed_attempts: unlimited }, rc_registration: unlimited,
        rc_joins: { local: unlimited, remote: unlimited }, rc_invites: { per_room: unlimited, per_user: unlimited, per_issuer: unlimited },
      });
      writeFileSync(this.config, YAML.stringify(cfg));
      this.url = `http://127.0.0.1:${port}`;
    }
    this.proc = spawn(join(this.bin, 'python'), ['-m', 'synapse.app.homeserver', '-c', this.config], { cwd: this.dir, stdio: 'ignore' });
    const deadline = Date.now() + 120_000;
    for (;;) {
      try {
        if ((await fetch(`${this.url}/_matrix/client/versions`)).ok) return this.url;
      } catch { /* not yet */ }
      if (Date.now() > deadline) throw new Error(`synapse did not answer on ${this.url} (see ${this.dir}/homeserver.log)`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  /** Registers `user` (password `pw-<user>`) through the shared secret and logs in; returns its user id and access token. */
  async user(user: string): Promise<{ userId: string; token: string }> {
    execFileSync(join(this.bin, 'register_new_matrix_user'), ['-u', user, '-p', `pw-${user}`, '--no-admin', '-c', this.config, this.url], { stdio: 'ignore' });
    const r = await fetch(`${this.url}/_matrix/client/v3/login`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'm.login.password', identifier: { type: 'm.id.user', user }, password: `pw-${user}` }),
    });
    const j = await r.json() as { user_id: string; access_token: string };
    return { userId: j.user_id, token: j.access_token };
  }

  async stop(): Promise<void> {
    if (this.proc && this.proc.exitCode === null) {
      const exited = new Promise((r) => this.proc!.once('exit', r));
      this.proc.kill('SIGTERM');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A Matrix client for a test user: plain Client-Server API calls. */
export class MatrixUser {
  constructor(private readonly url: string, readonly userId: string, private readonly token: string) {}

  async call(method: string, path: string, body?: unknown): Promise<any> {
    const r = await fetch(`${this.url}${path}`, { method, headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
    const j = await r.json();
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(j)}`);
    return j;
  }

  async say(room: string, body: string, replyTo?: string): Promise<string> {
    const content = { msgtype: 'm.text', body, ...(replyTo ? { 'm.relates_to': { 'm.in_reply_to': { event_id: replyTo } } } : {}) };
    return (await this.call('PUT', `/_matrix/client/v3/rooms/${encodeURIComponent(room)}/send/m.room.message/${Date.now()}-${Math.random()}`, content)).event_id;
  }

  async react(room: string, eventId: string, key: string): Promise<void> {
    await this.call('PUT', `/_matrix/client/v3/rooms/${encodeURIComponent(room)}/send/m.reaction/${Date.now()}-${Math.random()}`, { 'm.relates_to': { rel_type: 'm.annotation', event_id: eventId, key } });
  }

  /** The room's newest `limit` events, oldest first. */
  async messages(room: string, limit = 100): Promise<Array<{ event_id: string; sender: string; type: string; content: any }>> {
    const r = await this.call('GET', `/_matrix/client/v3/rooms/${encodeURIComponent(room)}/messages?dir=b&limit=${limit}`);
    return (r.chunk as Array<{ event_id: string; sender: string; type: string; content: any }>).reverse();
  }
}
