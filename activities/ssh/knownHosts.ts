import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { sshFingerprint } from './fingerprint';

/**
 * The host keys an OpenSSH known_hosts file lists for one host, as SHA-256 fingerprints.
 * `revoked`: keys marked `@revoked` for it (a node presenting one is refused).
 */
export interface KnownHostKeys { fingerprints: string[]; revoked: string[] }

/** How known_hosts names a host: `host` on port 22, `[host]:port` otherwise (sshd(8), SSH_KNOWN_HOSTS FILE FORMAT). */
function hostName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** Whether one comma-separated host field names `name`: plain names, `*`/`?` patterns, `!` negation, or a `|1|salt|hash` hash. */
function hostFieldMatches(field: string, name: string): boolean {
  if (field.startsWith('|1|')) {
    const [, , salt, hash] = field.split('|');
    return createHmac('sha1', Buffer.from(salt ?? '', 'base64')).update(name).digest('base64') === hash;
  }
  let matched = false;
  for (const raw of field.split(',')) {
    const negated = raw.startsWith('!');
    const pattern = negated ? raw.slice(1) : raw;
    const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
    if (re.test(name)) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

/**
 * The keys `text` (a known_hosts file's contents) lists for host:port. `@cert-authority` lines
 * are skipped (a CA's key is not a host key). Format: sshd(8), "SSH_KNOWN_HOSTS FILE FORMAT".
 */
export function knownHostKeys(text: string, host: string, port = 22): KnownHostKeys {
  const name = hostName(host, port);
  const out: KnownHostKeys = { fingerprints: [], revoked: [] };
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (!fields[0] || fields[0].startsWith('#')) continue;
    const marker = fields[0].startsWith('@') ? fields.shift() : undefined;
    const [hosts, , blob] = fields;
    if (!hosts || !blob || marker === '@cert-authority' || !hostFieldMatches(hosts, name)) continue;
    (marker === '@revoked' ? out.revoked : out.fingerprints).push(sshFingerprint(Buffer.from(blob, 'base64')));
  }
  return out;
}

/** knownHostKeys of a file. Throws when it cannot be read. */
export function knownHostKeysInFile(path: string, host: string, port = 22): KnownHostKeys {
  return knownHostKeys(readFileSync(path, 'utf8'), host, port);
}
