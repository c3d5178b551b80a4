import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { trustFileText } from '../../config/trust';
import { DecisionSigner } from '../../service/signer';

/** The front ends that sign decisions, one key each: a leaked bridge key cannot sign for the API. */
export const CHANNELS = ['cli', 'api', 'slack', 'matrix'] as const;

function gid(group: string): number {
  const line = execFileSync('getent', ['group', group], { encoding: 'utf8' }).trim();
  const id = Number(line.split(':')[2]);
  if (!Number.isInteger(id)) throw new Error(`keys: no group ${group}`);
  return id;
}

/**
 * `keys init [--dir /etc/etcd-runbooks] [--group etcd-runbooks-front] [--audit-group etcd-runbooks]`
 * (root): one Ed25519 signing key per front end in `<dir>/keys/<channel>.pem` (root:<group> 0640),
 * made only where missing, and `<dir>/trust.yaml` (root 0644) listing each key's public half for its
 * own channel; and the audit records' signing key `<dir>/keys/audit.pem` (root:<audit group> 0640:
 * the worker's, never a front end's) with its public half pinned at `<dir>/audit-signing.pub`. The
 * directory is root's, 0711 (entered by both, listed by neither). Modes and groups are set again on
 * every run. `--rotate CHANNEL|audit` replaces that key. Runs started before a
 * channel key's rotation pinned the old keys: the worker refuses their next step, so rotate when
 * `runs` shows none waiting. After an audit key rotation keep the old .pub: `audit verify
 * --public-key OLD --public-key NEW` checks a chain that spans both.
 * Idempotent: a second run changes nothing. Returns the exit code.
 */
export async function keysInitCommand(o: { dir: string; group: string; auditGroup?: string; rotate?: string }, out = console.log): Promise<number> {
  if (process.getuid?.() !== 0) throw new Error('keys init: run as root (the keys and the trust file are root\'s)');
  if (o.rotate && ![...CHANNELS, 'audit'].includes(o.rotate)) throw new Error(`keys init: --rotate: one of ${CHANNELS.join(', ')}, audit`);
  const keys = join(o.dir, 'keys');
  const group = gid(o.group);
  const auditGroup = gid(o.auditGroup ?? o.group);
  mkdirSync(keys, { recursive: true, mode: 0o711 });
  chownSync(keys, 0, 0);
  chmodSync(keys, 0o711);
  const entries = CHANNELS.map((channel) => {
    const file = join(keys, `${channel}.pem`);
    if (!existsSync(file) || o.rotate === channel) {
      const { pem } = DecisionSigner.generate();
      writeFileSync(`${file}.new`, pem, { mode: 0o640 });
      chownSync(`${file}.new`, 0, group);
      renameSync(`${file}.new`, file);
      out(`keys: new ${channel} signing key ${file}`);
    }
    chownSync(file, 0, group);
    chmodSync(file, 0o640);
    const signer = DecisionSigner.fromPem(readFileSync(file));
    return { publicKey: signer.publicKey, channels: [channel], comment: `${channel} front end, key ${signer.keyId.slice(0, 16)}` };
  });
  // The audit records' signing key, and its public half pinned where `audit verify` looks by default.
  const audit = join(keys, 'audit.pem');
  if (!existsSync(audit) || o.rotate === 'audit') {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    writeFileSync(`${audit}.new`, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o640 });
    chownSync(`${audit}.new`, 0, auditGroup);
    renameSync(`${audit}.new`, audit);
    writeFileSync(join(o.dir, 'audit-signing.pub'), publicKey.export({ type: 'spki', format: 'pem' }), { mode: 0o644 });
    out(`keys: new audit signing key ${audit}; its public key pinned at ${join(o.dir, 'audit-signing.pub')}`);
  }
  chownSync(audit, 0, auditGroup);
  chmodSync(audit, 0o640);
  const trust = join(o.dir, 'trust.yaml');
  const text = `# Written by etcd-runbooks keys init: the front ends whose signed decisions runs act on.\n${trustFileText(entries)}`;
  if (!existsSync(trust) || readFileSync(trust, 'utf8') !== text) {
    writeFileSync(`${trust}.new`, text, { mode: 0o644 });
    renameSync(`${trust}.new`, trust);
    out(`keys: wrote ${trust}`);
  }
  return 0;
}
