import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Insider finding 3: without --tls-dir the head node's Temporal listened in plaintext. The install
// now makes a private PKI (deploy/head-node/tls-init) so mTLS is the default.
test('tls-init makes a CA, a frontend certificate for the clients\' server name and client certificates, and keeps them on a second run', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'tls-')), 'pki');
  const script = join(__dirname, '..', '..', 'deploy', 'head-node', 'tls-init');
  execFileSync(script, [dir]);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { encoding: 'utf8' });
  expect(ssl('verify', '-CAfile', join(dir, 'ca.pem'), join(dir, 'frontend.pem'), join(dir, 'client.pem'), join(dir, 'system-worker.pem'))).toMatch(/frontend.pem: OK[\s\S]*client.pem: OK[\s\S]*system-worker.pem: OK/);
  const frontend = ssl('x509', '-in', join(dir, 'frontend.pem'), '-noout', '-ext', 'subjectAltName,extendedKeyUsage');
  expect(frontend).toMatch(/DNS:temporal/);
  expect(frontend).toMatch(/IP Address:127\.0\.0\.1/);
  expect(frontend).toMatch(/TLS Web Server Authentication/);
  expect(ssl('x509', '-in', join(dir, 'client.pem'), '-noout', '-ext', 'extendedKeyUsage')).toMatch(/TLS Web Client Authentication/);
  for (const key of ['ca-key.pem', 'frontend-key.pem', 'client-key.pem', 'system-worker-key.pem']) expect([key, statSync(join(dir, key)).mode & 0o077]).toEqual([key, 0]);
  const before = readFileSync(join(dir, 'client.pem'), 'utf8');
  execFileSync(script, [dir]);
  expect(readFileSync(join(dir, 'client.pem'), 'utf8')).toBe(before);
});
