import { Client } from 'ssh2';
import { sshFingerprint } from './fingerprint';

/**
 * The SHA-256 fingerprint of the host key `host:port` presents to this SSH client (the key every
 * later connection of the worker will be offered, as ssh2 negotiates the same algorithm). The
 * connection is dropped at key exchange, before any authentication. Throws when nothing answers
 * within `timeoutMs` or the handshake fails before a key is seen.
 */
export function presentedHostKey(host: string, port = 22, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = new Client();
    let seen: string | undefined;
    const done = (e?: Error) => {
      c.end();
      if (seen) resolve(seen);
      else reject(e ?? new Error(`ssh ${host}:${port}: closed before presenting a host key`));
    };
    c.on('error', (e) => done(new Error(`ssh ${host}:${port}: ${e.message}`)));
    c.on('close', () => done());
    c.connect({
      host, port, username: 'host-key-scan', readyTimeout: timeoutMs,
      hostVerifier: (key: Buffer) => {
        seen = sshFingerprint(key);
        return false;
      },
    });
  });
}
