import { join } from 'node:path';

/**
 * Where the worker keeps its command journal and audit records, and its signing key. From the
 * environment: ETCD_RUNBOOKS_AUDIT_DIR (default /var/lib/etcd-runbooks/audit), ETCD_RUNBOOKS_AUDIT_KEY
 * (Ed25519 private key, PKCS#8 PEM; default `<dir>/signing-key.pem`, created on first start with its
 * public key beside it as `.pub`), ETCD_RUNBOOKS_AUDIT_INTERVAL (seconds between sweeps, default 5).
 */
export interface AuditSettings { dir: string; keyFile: string; intervalMs: number }

export function auditSettings(env: NodeJS.ProcessEnv = process.env): AuditSettings {
  const dir = env.ETCD_RUNBOOKS_AUDIT_DIR || '/var/lib/etcd-runbooks/audit';
  const seconds = Number(env.ETCD_RUNBOOKS_AUDIT_INTERVAL || 5);
  return { dir, keyFile: env.ETCD_RUNBOOKS_AUDIT_KEY || join(dir, 'signing-key.pem'), intervalMs: Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 5000 };
}
