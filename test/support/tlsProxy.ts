import { connect, type Server as NetServer } from 'node:net';
import { createServer, type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';

/**
 * A TLS terminator in front of the Temporal dev server (which serves plain gRPC only): it accepts
 * TLS with ALPN h2, asks for a client certificate signed by `ca` and refuses connections without
 * one (mTLS), and pipes the bytes to `target`. What the clients see is a Temporal server with mTLS.
 */
export async function startTlsProxy(o: { cert: Buffer; key: Buffer; ca: Buffer; target: string }): Promise<{ address: string; accepted: () => number; refused: () => number; close: () => Promise<void> }> {
  const [host, port] = [o.target.slice(0, o.target.lastIndexOf(':')), Number(o.target.slice(o.target.lastIndexOf(':') + 1))];
  let accepted = 0;
  let refused = 0;
  const sockets = new Set<TLSSocket>();
  const server = createServer({ cert: o.cert, key: o.key, ca: o.ca, requestCert: true, rejectUnauthorized: true, ALPNProtocols: ['h2'] }, (tls) => {
    accepted++;
    sockets.add(tls);
    const up = connect(port, host);
    tls.pipe(up).pipe(tls);
    const end = () => { tls.destroy(); up.destroy(); sockets.delete(tls); };
    tls.on('error', end); up.on('error', end); tls.on('close', end); up.on('close', end);
  });
  server.on('tlsClientError', () => { refused++; });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    address: `127.0.0.1:${((server as unknown as NetServer).address() as AddressInfo).port}`,
    accepted: () => accepted,
    refused: () => refused,
    close: () => new Promise((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }),
  };
}
