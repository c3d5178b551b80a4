import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readHead, type ChainHead } from './clusterChain';
import { writeAtomically } from './files';
import type { DetachedSignature } from './sign';

/**
 * Sends one signed head (the line of HEAD.json: `{"head":{...},"signature":{...}}`) of `cluster`
 * off this host, appending it to a log there. Resolves when it is stored; `'no place'` when the
 * cluster has nowhere to send it (no backup host): it is sent once there is one.
 * Throws when the place does not answer (tried again at the next sweep).
 */
export type PublishHead = (cluster: string, signedHead: string) => Promise<'stored' | 'no place'>;

/** The file beside HEAD.json that says which sequence number was last stored off the host. */
const PUBLISHED = 'HEAD.published';

/**
 * Copies each cluster's signed chain head off the host after it moved (audit/clusterChain.ts): for
 * every `<dir>/records/<cluster>/HEAD.json` newer than its `HEAD.published`, calls `publish`, then
 * records the sequence number sent. An attacker who deletes the newest records and the head on
 * this host is then caught by `audit verify --cluster C --head <the off-host log>`. One failure
 * does not stop the others; returns what was stored and what failed (cluster: message).
 */
export async function publishHeads(dir: string, publish: PublishHead): Promise<{ stored: string[]; failed: string[] }> {
  const root = join(dir, 'records');
  const stored: string[] = [];
  const failed: string[] = [];
  for (const cluster of existsSync(root) ? readdirSync(root, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name) : []) {
    const clusterDir = join(root, cluster);
    let signed;
    try { signed = readHead(clusterDir); } catch { continue; } // verify reports an unreadable head
    if (!signed) continue;
    const done = Number(existsSync(join(clusterDir, PUBLISHED)) ? readFileSync(join(clusterDir, PUBLISHED), 'utf8').trim() : '0');
    if (signed.head.seq <= done) continue;
    try {
      if ((await publish(signed.head.cluster, JSON.stringify(signed))) === 'stored') {
        writeAtomically(join(clusterDir, PUBLISHED), `${signed.head.seq}\n`);
        stored.push(`${signed.head.cluster}#${signed.head.seq}`);
      }
    } catch (e) {
      failed.push(`${signed.head.cluster}: ${(e as Error).message}`);
    }
  }
  return { stored, failed };
}

/**
 * The newest head in an off-host copy: a HEAD.json (one object) or the log publishHeads appends
 * to (one signed head per line; the last complete line counts). Throws when there is none.
 */
export function offHostHead(text: string): { head: ChainHead; signature: DetachedSignature } {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  for (let i = lines.length - 1; i >= 0; i--) {
    try {
      const signed = JSON.parse(lines[i]) as { head?: ChainHead; signature?: DetachedSignature };
      if (signed.head && typeof signed.head.seq === 'number' && signed.signature) return signed as { head: ChainHead; signature: DetachedSignature };
    } catch {
      // a line cut short by a crash while appending: the one before counts
    }
  }
  throw new Error('no chain head in the off-host copy');
}
