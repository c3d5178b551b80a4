import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One call the bridge made to the Web API (or to a response_url). */
export interface SlackCall { method: string; args: Record<string, any> }

/**
 * A local stand-in for Slack's Web API (Slack cannot be reached from here), at the boundary only:
 * it answers `POST /api/<method>` as Slack does for the methods the bridge uses (auth.test,
 * chat.postMessage, chat.update, chat.postEphemeral) and records every call, and `POST /respond/*`
 * for slash commands' response_url. Everything else in the bridge is the real Bolt app.
 */
export class SlackStandIn {
  readonly calls: SlackCall[] = [];
  private server?: Server;
  private ts = 1000;

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => { body += c; });
      req.on('end', () => {
        const type = req.headers['content-type'] ?? '';
        const args = type.includes('json') ? JSON.parse(body || '{}') : Object.fromEntries(new URLSearchParams(body));
        for (const k of ['blocks', 'attachments']) if (typeof args[k] === 'string') args[k] = JSON.parse(args[k]);
        const method = req.url!.startsWith('/respond') ? 'response_url' : req.url!.replace(/^\/api\//, '');
        this.calls.push({ method, args });
        const reply = method === 'auth.test' ? { ok: true, user_id: 'UBOT', bot_id: 'BBOT', team_id: 'T1', user: 'etcd-runbooks' }
          : { ok: true, channel: args.channel, ts: method === 'chat.update' ? args.ts : `${++this.ts}.000100` };
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(reply));
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  of(method: string): SlackCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  async stop(): Promise<void> {
    await new Promise((r) => this.server?.close(r));
  }
}
