import { createHash } from 'node:crypto';

/** OpenSSH-style SHA-256 fingerprint of a host key blob: `SHA256:` + unpadded base64 of its digest. */
export function sshFingerprint(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

/** Raised when a node presents a host key other than the pinned one. Never retried. */
export class HostKeyMismatchError extends Error {
  constructor(public readonly node: string, public readonly expected: string, public readonly seen: string) {
    super(`host key of ${node} does not match the inventory: expected ${expected}, node presented ${seen}; refusing to connect`);
    this.name = 'HostKeyMismatchError';
  }
}
