import type { Etcd3 } from 'etcd3';

/**
 * A steady writer: one put every `intervalMs` under `prefix` through `client`, counting successes
 * and keeping every error message, until stop() is called.
 */
export function startWriter(client: Etcd3, prefix: string, intervalMs = 20) {
  let writes = 0;
  let stopped = false;
  const errors: string[] = [];
  const loop = (async () => {
    while (!stopped) {
      try {
        await client.put(`${prefix}${String(writes).padStart(6, '0')}`).value('v').exec();
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
      return { writes, errors };
    },
  };
}
