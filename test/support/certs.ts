import { connect } from 'node:tls';
import type { Inventory } from '../../inventory/schema';
import { labClientCredentials } from './lab';

/** What a TLS client sees: the served certificate's expiry (ISO-8601) and SANs. */
export interface Served { notAfter: string; subjectAltName: string }

/** TLS client credentials as etcd3 takes them. */
type Credentials = ReturnType<typeof labClientCredentials>;

/** The certificate served at `url`, read from the host over a new TLS handshake with the lab's client certificate (or `c`). */
export async function servedCertificate(url: string, c: Credentials = labClientCredentials()): Promise<Served> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const s = connect({ host: u.hostname, port: Number(u.port), ca: c.rootCertificate, cert: c.certChain, key: c.privateKey, rejectUnauthorized: false }, () => {
      const cert = s.getPeerCertificate();
      s.end();
      resolve({ notAfter: new Date(cert.valid_to).toISOString(), subjectAltName: cert.subjectaltname ?? '' });
    });
    s.setTimeout(5000, () => { s.destroy(); reject(new Error(`${url}: TLS timeout`)); });
    s.on('error', reject);
  });
}

/** Every node's served client-URL and peer-URL certificates. */
export async function servedCertificates(inv: Inventory, nodes: readonly string[], c?: Credentials): Promise<Record<string, { client: Served; peer: Served }>> {
  return Object.fromEntries(await Promise.all(nodes.map(async (n) => {
    const e = inv.nodes.find((x) => x.name === n)!.etcd;
    return [n, { client: await servedCertificate(e.clientURL, c), peer: await servedCertificate(e.peerURL, c) }] as const;
  })));
}
