import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { knownHostKeys } from '../../activities/ssh/knownHosts';
import { sshFingerprint } from '../../activities/ssh/fingerprint';

// Captured from the lab: two nodes' lines as `lab up` writes them, one on port 2222, then the same
// file after `ssh-keygen -H` (hashed host names).
const FIX = join(__dirname, '..', 'fixtures', 'node-output');
const plain = readFileSync(join(FIX, 'known_hosts-plain'), 'utf8');
const hashed = readFileSync(join(FIX, 'known_hosts-hashed'), 'utf8');
const fp = (line: number) => sshFingerprint(Buffer.from(plain.split('\n')[line].split(' ')[2], 'base64'));

describe('known_hosts', () => {
  test('plain names: the key listed for that host, [host]:port for another port, nothing for an unlisted host', () => {
    expect(knownHostKeys(plain, '10.213.3.11')).toEqual({ fingerprints: [fp(0)], revoked: [] });
    expect(knownHostKeys(plain, '10.213.3.12')).toEqual({ fingerprints: [fp(1)], revoked: [] });
    expect(knownHostKeys(plain, '10.213.3.99', 2222).fingerprints).toEqual([fp(2)]);
    expect(knownHostKeys(plain, '10.213.3.99').fingerprints).toEqual([]);
    expect(knownHostKeys(plain, '10.213.3.1').fingerprints).toEqual([]);
  });

  test('hashed names (ssh-keygen -H) match the same hosts and ports', () => {
    expect(knownHostKeys(hashed, '10.213.3.11').fingerprints).toEqual([fp(0)]);
    expect(knownHostKeys(hashed, '10.213.3.12').fingerprints).toEqual([fp(1)]);
    expect(knownHostKeys(hashed, '10.213.3.99', 2222).fingerprints).toEqual([fp(2)]);
    expect(knownHostKeys(hashed, '10.213.3.13').fingerprints).toEqual([]);
  });

  test('patterns, negation, @revoked and @cert-authority lines', () => {
    const key = plain.split('\n')[0].split(' ').slice(1).join(' ');
    const text = [`node*.lab,!node9.lab ${key}`, `@revoked node2.lab ${key}`, `@cert-authority *.lab ${key}`, '# a comment', ''].join('\n');
    expect(knownHostKeys(text, 'node1.lab').fingerprints).toEqual([fp(0)]);
    expect(knownHostKeys(text, 'NODE1.LAB').fingerprints).toEqual([fp(0)]);
    expect(knownHostKeys(text, 'node9.lab').fingerprints).toEqual([]);
    expect(knownHostKeys(text, 'node2.lab')).toEqual({ fingerprints: [fp(0)], revoked: [fp(0)] });
    expect(knownHostKeys(text, 'other.lab').fingerprints).toEqual([]);
  });
});
