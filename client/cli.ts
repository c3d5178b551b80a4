import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import type { z } from 'zod';
import { CLI_PRESETS, RUNBOOKS, type CliField, type RunbookEntry, type RunbookName } from '../service/catalogue';
import { LOCAL_SOCKET } from '../config/local';
import { versionLine } from './version';
import { prepareRun, type RunbookCliOptions } from './prepare';

/**
 * Validates first (no Temporal code loaded, so a refusal answers at once), then starts and follows
 * the run (runRunbook.ts). Returns the exit code.
 */
async function startRunbook(name: RunbookName, o: RunbookCliOptions, fields: Record<string, unknown>): Promise<number> {
  const prepared = prepareRun(name, o, fields);
  const { runRunbook } = await import('./runRunbook');
  return runRunbook(prepared);
}

/** Adds --inventory, --yes, --approval-timeout, --plan and --no-wait to a runbook verb. */
function runbookVerb(program: Command, name: string, description: string): Command {
  return program.command(name).description(description)
    .requiredOption('-i, --inventory <file>', 'inventory YAML of the cluster, or the cluster\'s name (the service reads its own inventory)')
    .option('-y, --yes', 'approve every destructive step up front (recorded as you)')
    .option('--approval-timeout <seconds>', 'stop at a safe point if a step is not approved in time (default 3600)')
    .option('--plan', 'dry run: pre-flight reads only, then the plan with the members after each step and what a cancel would do there; nothing changes')
    .option('--no-wait', 'start the run and return without following it');
}

/**
 * One verb from the catalogue: an option per field (required when the runbook's schema requires
 * it), whose values become the fields the service validates. `start` is what the verb does with
 * them (tests record instead of starting).
 */
function catalogueVerb(program: Command, verb: string, summary: string, cli: Record<string, CliField>, required: (field: string) => boolean,
  act: (o: RunbookCliOptions, fields: Record<string, unknown>) => Promise<number>, run: (p: Promise<number>) => Promise<void>): void {
  const cmd = runbookVerb(program, verb, summary);
  const attrs: Array<[string, string, CliField]> = [];
  for (const [field, f] of Object.entries(cli)) {
    const opt = new Option(f.flag, f.help).makeOptionMandatory(required(field));
    cmd.addOption(opt);
    attrs.push([field, opt.attributeName(), f]);
  }
  cmd.action((o: RunbookCliOptions & Record<string, unknown>) => {
    const fields: Record<string, unknown> = {};
    for (const [field, attr, f] of attrs) if (o[attr] !== undefined) fields[field] = typeof o[attr] === 'string' && f.parse ? f.parse(o[attr]) : o[attr];
    return run(act(o, fields));
  });
}

/** Whether `schema` refuses an input without `field` (required, no default). */
const requires = (schema: z.ZodObject) => (field: string) => !schema.shape[field]?.safeParse(undefined).success;

/** The `etcd-runbooks` command line. Temporal server from TEMPORAL_ADDRESS (default 127.0.0.1:7233). */
export function buildCli(start: (name: RunbookName, o: RunbookCliOptions, fields: Record<string, unknown>) => Promise<number> = startRunbook): Command {
  const program = new Command('etcd-runbooks').description('Durable runbooks for etcd clusters, run by Temporal').showHelpAfterError()
    .version(versionLine(), '-V, --version', 'print the version and the commit it was built from');
  const run = (p: Promise<number>) => p.then((code) => { process.exitCode = code; });

  for (const [verb, e] of Object.entries(RUNBOOKS) as Array<[RunbookName, RunbookEntry]>) {
    catalogueVerb(program, verb, e.summary, e.cli, requires(e.body), (o, fields) => start(verb, o, fields), run);
  }
  for (const [verb, p] of Object.entries(CLI_PRESETS)) {
    // A preset's options with a value are required; its switches (no <value>) are not.
    catalogueVerb(program, verb, p.summary, p.cli, (field) => /<[^>]+>/.test(p.cli[field].flag), (o, values) => start(p.runbook, o, p.fields(values)), run);
  }

  program.command('cancel')
    .description('cancel the cluster\'s running runbook: before its point of no return it undoes its changes, after it stops at its safe point')
    .requiredOption('-i, --inventory <file>', 'inventory YAML of the cluster')
    .option('--reason <text>', 'why (recorded in the run\'s history and audit record)')
    .action((o) => run(import('./commands/cancel').then((m) => m.cancelCommand(o))));
  program.command('approve')
    .description('approve the step the cluster\'s running runbook waits on, as you (without --step: show it); four-eyes runbooks refuse their requester')
    .requiredOption('-i, --inventory <file>', 'inventory YAML of the cluster')
    .option('--step <id>', 'the step id shown as waiting')
    .action((o) => run(import('./commands/approve').then((m) => m.approveCommand(o))));
  program.command('reject')
    .description('reject the step the cluster\'s running runbook waits on: the run stops at its safe point')
    .requiredOption('-i, --inventory <file>', 'inventory YAML of the cluster')
    .requiredOption('--step <id>', 'the step id shown as waiting')
    .requiredOption('--reason <text>', 'why (recorded with your name)')
    .action((o) => run(import('./commands/approve').then((m) => m.rejectCommand(o))));
  program.command('runs')
    .description('the cluster\'s runs, newest first: state, runbook, requester, waiting step')
    .requiredOption('-i, --inventory <file>', 'inventory YAML of the cluster')
    .option('--limit <n>', 'how many (default 20)')
    .option('--json', 'print JSON')
    .action((o) => run(import('./commands/runs').then((m) => m.runsCommand(o))));
  program.command('api')
    .description('serve the HTTP API (OpenAPI at /openapi.json); access from ETCD_RUNBOOKS_ACCESS')
    .option('-i, --inventory <path...>', 'inventory files or directories (default: ETCD_RUNBOOKS_INVENTORY)', [])
    .option('--listen <host:port>', 'address to listen on', '127.0.0.1:8080')
    .option('--tls-cert <file>', 'serve HTTPS with this certificate (PEM)')
    .option('--tls-key <file>', 'its private key (PEM)')
    .option('--client-ca <file>', 'accept client certificates signed by this CA (mTLS identities)')
    .action(async (o) => { await (await import('../api/main')).runApi(o); });
  program.command('cli-service')
    .description('serve the CLI of OS users who are not root on a unix socket: proves each caller\'s uid, signs their decisions (systemd unit etcd-runbooks-cli)')
    .option('-i, --inventory <path...>', 'inventory files or directories (default: ETCD_RUNBOOKS_INVENTORY)', [])
    .option('--socket <path>', 'where to listen', LOCAL_SOCKET)
    .action(async (o: { inventory: string[]; socket: string }) => { await (await import('../api/local')).runCliService(o); });
  program.command('status')
    .description('members, leader, raft index, db size and health of every member')
    .requiredOption('-i, --inventory <file>', 'inventory YAML of the cluster')
    .option('--json', 'print JSON')
    .action((o) => run(import('./commands/status').then((m) => m.statusCommand(o))));
  program.command('proposals')
    .description('what the cluster\'s watch proposes (a runbook with its fields and evidence) and reports, open first')
    .requiredOption('-i, --inventory <file>', 'inventory YAML of the cluster')
    .option('--json', 'print JSON')
    .action((o) => run(import('./commands/proposals').then((m) => m.proposalsCommand(o))));
  program.command('accept')
    .description('accept an open proposal of the watch (its id from `proposals`): start its runbook as you, with its normal approvals and four-eyes')
    .argument('<proposal-id>', 'e.g. member-silent:node3@1764930000000')
    .requiredOption('-i, --inventory <file>', 'inventory YAML of the cluster')
    .option('--no-wait', 'start the run and return without following it')
    .action((id: string, o) => run(import('./commands/proposals').then((m) => m.acceptCommand(id, o))));
  program.command('doctor')
    .description('check every node before any runbook: SSH, each member serving, unit or manifest, etcdctl/etcdutl, curl, disk, sshd MaxSessions, clock, certificates, backup host, control planes; one table with the fix for each problem')
    .requiredOption('-i, --inventory <file>', 'inventory YAML of the cluster, or the cluster\'s name')
    .option('--json', 'print JSON rows')
    .action((o) => run(import('./commands/doctor').then((m) => m.doctorCommand(o))));
  program.command('inventory').description('write an inventory').command('discover')
    .description('read a running cluster from one of its nodes (members, each member\'s unit and environment file or static pod manifest, data dirs, TLS paths, versions, the kubeadm control plane) and write a commented inventory that validates; read-only on the nodes')
    .requiredOption('--from <user@host[:port]>', 'an etcd node to start from')
    .requiredOption('--key <file>', 'the SSH private key to connect with')
    .requiredOption('--cluster <name>', 'the cluster\'s name in etcd-runbooks')
    .option('--known-hosts <file>', 'take host keys from this known_hosts file instead of asking to confirm each')
    .option('-o, --output <file>', 'write the inventory here (default: stdout)')
    .option('--force', 'replace --output if it exists')
    .option('--backup-dir <dir>', 'directory on the nodes for snapshots', '/var/backups/etcd-runbooks')
    .option('--key-on-worker <path>', 'the key\'s path on the worker host, written into the inventory (default: --key)')
    .option('--unit <name>', 'systemd unit of etcd (default etcd.service)')
    .option('--kubeadm-config <path>', 'kubeadm config file on each control-plane node (default: looked for)')
    .option('--client-cert <path>', 'client certificate on the nodes for etcdctl (default: looked for)')
    .option('--client-key <path>', 'its key')
    .action((o) => run(import('./commands/inventory').then((m) => m.discoverCommand(o))));
  program.command('history')
    .description("a run's audit trail: each step's commands, nodes, exit codes, durations, output, approvals")
    .argument('<workflow-id>', 'e.g. etcd-runbooks-<cluster>')
    .option('--run-id <id>', 'a specific run (default: the latest)')
    .option('--json', 'print JSON rows')
    .action((id, o) => run(import('./commands/history').then((m) => m.historyCommand(id, o))));
  const schedule = program.command('schedule').description('runbooks Temporal starts on a schedule (backups, restore drills)');
  schedule.command('backup').description('back the cluster up every interval (overlap: skip; a missed backup is taken when the server is back, within a day)')
    .requiredOption('-i, --inventory <file>', 'inventory YAML of the cluster')
    .requiredOption('--every <interval>', 'e.g. 15m, 1h, 1d (at least 10s)')
    .option('--keep <n>', 'backups to keep on the leader\'s node (default 7)')
    .action((o: { inventory: string; every: string; keep?: string }) => run(import('./commands/schedule').then((m) => m.scheduleRunbookCommand('backup', o))));
  schedule.command('drill').description('restore-drill the newest off-node copy every interval (a failed drill fails its run: the alert)')
    .requiredOption('-i, --inventory <file>', 'inventory YAML of the cluster')
    .requiredOption('--every <interval>', 'e.g. 1d (at least 10s)')
    .action((o: { inventory: string; every: string }) => run(import('./commands/schedule').then((m) => m.scheduleRunbookCommand('drill', o))));
  schedule.command('list').description('the schedules, their interval, state, last and next run').option('--json', 'print JSON')
    .action((o: { json?: boolean }) => run(import('./commands/schedule').then((m) => m.scheduleListCommand(o))));
  for (const verb of ['pause', 'unpause', 'delete'] as const) {
    schedule.command(verb).description(`${verb} a schedule`).argument('<schedule-id>', 'e.g. etcd-runbooks-backup-<cluster>, etcd-runbooks-drill-<cluster>')
      .action((id: string) => run(import('./commands/schedule').then((m) => m.scheduleChangeCommand(verb, id))));
  }
  program.command('keys')
    .description('root: make the front ends\' decision signing keys (one per channel) and the trust file runs verify them with')
    .argument('<action>', 'init')
    .option('--dir <dir>', 'settings directory', '/etc/etcd-runbooks')
    .option('--group <group>', 'the front ends\' group (reads their signing keys)', 'etcd-runbooks-front')
    .option('--audit-group <group>', 'the worker\'s group (reads the audit key; default: --group)')
    .option('--rotate <channel>', 'replace this channel\'s key (cli, api, slack, matrix, audit)')
    .action((action: string, o: { dir: string; group: string; auditGroup?: string; rotate?: string }) => {
      if (action !== 'init') throw new Error(`keys: unknown action ${action} (init)`);
      return run(import('./commands/keys').then((m) => m.keysInitCommand(o)));
    });
  const audit = program.command('audit').description('audit records the worker writes when a run closes (hash-chained JSON Lines, Ed25519-signed)');
  audit.command('verify').description('check a record\'s hash chain and signature; with --cluster, the cluster\'s whole chain of records (none deleted, reordered or replaced)')
    .argument('[file]', 'record file (.jsonl), or a run id')
    .option('--cluster <name>', 'verify every record of this cluster as one chain, up to the signed head')
    .option('--head <file>', 'with --cluster: a copy of HEAD.json kept off this host')
    .option('--public-key <file...>', 'the signer\'s public key(s), old ones after a rotation (default: /etc/etcd-runbooks/audit-signing.pub)')
    .action((file: string | undefined, o: { publicKey?: string[]; cluster?: string; head?: string }) => run(import('./commands/audit').then((m) => {
      if (o.cluster) return m.auditVerifyClusterCommand(o.cluster, o);
      if (!file) throw new Error('audit verify: give a record file or run id, or --cluster NAME');
      return m.auditVerifyCommand(file, { publicKey: o.publicKey?.[0] });
    })));
  audit.command('show').description('verify a record, then print it as Markdown')
    .argument('<run>', 'record file (.jsonl), or a run id')
    .option('--public-key <file>', 'the signer\'s public key (default: the .pub beside ETCD_RUNBOOKS_AUDIT_KEY)')
    .action((ref: string, o: { publicKey?: string }) => run(import('./commands/audit').then((m) => m.auditShowCommand(ref, o))));
  program.command('slack')
    .description('the Slack bridge: /etcd starts runbooks, buttons approve (SLACK_SIGNING_SECRET, SLACK_BOT_TOKEN; SLACK_APP_TOKEN for Socket Mode)')
    .option('-i, --inventory <path...>', 'inventory files or directories (default: ETCD_RUNBOOKS_INVENTORY)', [])
    .option('--port <n>', 'HTTP mode: port of /slack/events', '3000')
    .action(async (o) => { await (await import('../chat/main')).runSlack(o); });
  program.command('matrix')
    .description('the Matrix bridge: !etcd starts runbooks, reactions or replies approve (MATRIX_HOMESERVER, MATRIX_USER_ID, MATRIX_ACCESS_TOKEN)')
    .option('-i, --inventory <path...>', 'inventory files or directories (default: ETCD_RUNBOOKS_INVENTORY)', [])
    .action(async (o) => { await (await import('../chat/main')).runMatrix(o); });
  program.command('worker')
    .description('run the worker that executes runbook steps (needs SSH access to the nodes)')
    .option('-i, --inventory <path...>', 'inventory files or directories (default: ETCD_RUNBOOKS_INVENTORY)', [])
    .action(async (o) => { await (await import('../worker/main')).runWorker(o.inventory); });
  program.command('lab')
    .description('the rehearsal lab of real Debian nodes (root): up [--nodes N] [--members M], down, status, crash|start|freeze|thaw|partition|heal|wipe NODE, ssh NODE')
    .allowUnknownOption().helpOption(false)
    .argument('[args...]')
    .action((args: string[]) => {
      // client/ from the sources, dist/client/ from the build: the lab script is in the checkout's lab/.
      const script = [join(__dirname, '..', 'lab', 'lab'), join(__dirname, '..', '..', 'lab', 'lab')].find((p) => existsSync(p));
      if (!script) throw new Error(`the lab script (lab/lab) is not beside ${__dirname}: the lab needs a checkout of etcd-runbooks`);
      const r = spawnSync(script, args, { stdio: 'inherit' });
      process.exitCode = r.status ?? 1;
    });
  return program;
}

export async function main(argv = process.argv): Promise<void> {
  try {
    await buildCli().parseAsync(argv);
  } catch (e) {
    console.error(`etcd-runbooks: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 1;
  }
}
