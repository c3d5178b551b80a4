import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';

// docker compose cannot run on these machines (no Docker engine): check what can be checked.
const ROOT = join(__dirname, '..', '..');
const compose = YAML.parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true });

describe('docker-compose.yml (production Temporal)', () => {
  test('has PostgreSQL, schema setup, Temporal server, namespace and UI', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['postgresql', 'temporal', 'temporal-namespace', 'temporal-schema', 'temporal-ui']);
    expect(compose.services.temporal.image).toMatch(/^temporalio\/server:/);
    expect(compose.services.temporal.environment.DB).toBe('postgres12');
  });

  test('Temporal and its UI are published on loopback only (neither authenticates: insider finding 3)', () => {
    const published = Object.values<any>(compose.services).flatMap((svc) => (svc.ports ?? []).map(String));
    expect(published.length).toBeGreaterThan(0);
    for (const p of published) expect(p).toMatch(/^127\.0\.0\.1:/);
  });

  test('every depends_on names a service, and the server waits for the schema', () => {
    for (const [name, svc] of Object.entries<any>(compose.services)) {
      for (const dep of Object.keys(svc.depends_on ?? {})) expect([name, compose.services[dep] !== undefined]).toEqual([name, true]);
    }
    expect(compose.services.temporal.depends_on['temporal-schema'].condition).toBe('service_completed_successfully');
  });

  test('mounted files exist and no password is written in the file', () => {
    for (const svc of Object.values<any>(compose.services)) {
      for (const v of svc.volumes ?? []) {
        const src = String(v).split(':')[0];
        if (src.startsWith('./')) expect(existsSync(join(ROOT, src))).toBe(true);
      }
    }
    const text = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
    expect(text).not.toMatch(/PASSWORD: *[A-Za-z0-9]+\s*$/m);
    expect(compose.services.postgresql.environment.POSTGRES_PASSWORD).toBe('${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}');
  });

  test('the head-node install (deploy/head-node) runs the same server and UI versions, the same retention', () => {
    const build = readFileSync(join(ROOT, 'scripts', 'temporal-server-build.sh'), 'utf8');
    const install = readFileSync(join(ROOT, 'deploy', 'head-node', 'install.sh'), 'utf8');
    const server = /temporalio\/server:\$\{TEMPORAL_VERSION:-([0-9.]+)\}/.exec(compose.services.temporal.image)![1];
    const ui = /temporalio\/ui:\$\{TEMPORAL_UI_VERSION:-([0-9.]+)\}/.exec(compose.services['temporal-ui'].image)![1];
    expect(/^SERVER_VERSION=v(\S+)$/m.exec(build)![1].startsWith(`${server}.`)).toBe(true);
    expect(/^UI_VERSION=v(\S+)$/m.exec(build)![1]).toBe(ui);
    const retention = /RETENTION: \$\{TEMPORAL_RETENTION:-(\w+)\}/.exec(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'))![1];
    expect(install).toMatch(new RegExp(`retention=${retention} `));
  });
});
