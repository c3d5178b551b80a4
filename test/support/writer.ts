import type { Etcd3 } from 'etcd3';

/**
 * A steady writer: one put every `intervalMs` under `prefix`, counting successes and keeping every
 * error message, until stop() is called. Given several clients (one per member), a put that fails
 * is sent to the next member at once, as etcd's Go client and the kube-apiserver fail over
 * between endpoints: a write counts as failed only when every member refused it (`failovers`
 * counts the puts another member took).
 */
export function startWriter(client: Etcd3 | Etcd3[], prefix: string, intervalMs = 20) {
  const clients = Array.isArray(client) ? client : [client];
  let writes = 0;
  let failovers = 0;
  let current = 0;
  let stopped = false;
  const errors: string[] = [];
  const put = async (key: string) => {
    let last: unknown;
    for (let i = 0; i < clients.length; i++) {
      try {
        await clients[current].put(key).value('v').exec();
        if (i > 0) failovers++;
        return;
      } catch (e) {
        last = e;
        current = (current + 1) % clients.length;
      }
    }
    throw last;
  };
  const loop = (async () => {
    while (!stopped) {
      try {
        await put(`${prefix}${String(writes).padStart(6, '0')}`);
        writes++;
      } catch (e) {
        errors.push((e as Error).message);
      }
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return { writes, errors, failovers };
    },
  };
}
