import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClusterMetrics } from '../../service/metrics';

const DIR = join(__dirname, '..', '..', 'deploy', 'prometheus');
const DASHBOARD = join(__dirname, '..', '..', 'deploy', 'grafana', 'etcd-runbooks.json');
/** promtool (Debian's prometheus package, installed by scripts/install-deps.sh): stdout and stderr, throwing on a failed check. */
const promtool = (args: string[], cwd = DIR) => execFileSync('promtool', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

// The alert rules, scrape config and dashboard shipped in deploy/ (and in the release), checked
// as Prometheus reads them, and against the metrics /metrics exposes (service/metrics.ts).
describe('deploy/prometheus and deploy/grafana', () => {
  const exposed = new ClusterMetrics({ clusters: () => [], proposals: async () => { throw new Error('unused'); }, recoveryPoint: async () => ({}), list: async () => [] })
    .registry.getMetricsAsArray().map((m) => m.name);

  test('promtool: the rules are valid and each alert fires on the series it is written for (rules.test.yml)', () => {
    expect(promtool(['check', 'rules', 'etcd-runbooks-rules.yml'])).toMatch(/SUCCESS: 13 rules found/);
    expect(promtool(['test', 'rules', 'rules.test.yml'])).toMatch(/SUCCESS/);
  });

  test('promtool: the scrape config is valid with its rules and a token file in place', () => {
    const d = mkdtempSync(join(tmpdir(), 'prom-'));
    try {
      copyFileSync(join(DIR, 'etcd-runbooks-rules.yml'), join(d, 'etcd-runbooks-rules.yml'));
      writeFileSync(join(d, 'token'), 'tok-viewer\n');
      writeFileSync(join(d, 'prometheus.yml'), readFileSync(join(DIR, 'prometheus.yml'), 'utf8').replace('/etc/prometheus/etcd-runbooks.token', join(d, 'token')));
      expect(promtool(['check', 'config', 'prometheus.yml'], d)).toMatch(/SUCCESS: 1 rule files found/);
    } finally { rmSync(d, { recursive: true, force: true }); }
  });

  test('every metric the rules and the dashboard use is one /metrics exposes', () => {
    const used = (text: string) => [...new Set(text.match(/etcd_runbooks_[a-z_]+/g) ?? [])];
    const rules = used(readFileSync(join(DIR, 'etcd-runbooks-rules.yml'), 'utf8'));
    const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: { targets: { expr: string }[] }[]; templating: { list: { definition?: string }[] } };
    const panels = used(JSON.stringify([dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr)), dashboard.templating.list.map((t) => t.definition ?? '')]));
    expect(rules.length).toBeGreaterThan(8);
    expect(panels.length).toBeGreaterThan(10);
    expect([...rules, ...panels].filter((n) => !exposed.includes(n))).toEqual([]);
  });
});
