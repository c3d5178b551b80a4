import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Command } from 'commander';
import { expandCommand } from './commands/expand';
import { statusCommand } from './commands/status';
import { historyCommand } from './commands/history';
import { runWorker } from '../worker/main';

/** The `etcd-runbooks` command line. Temporal server from TEMPORAL_ADDRESS (default 127.0.0.1:7233). */
export function buildCli(): Command {
  const program = new Command('etcd-runbooks').description('Durable runbooks for etcd clusters, run by Temporal').showHelpAfterError();
  program.command('expand')
    .description('add members one at a time (learner, start, promote), after pre-flight checks and a verified snapshot')
    .requiredOption('-i, --inventory <file>', 'inventory YAML of the cluster')
    .requiredOption('-a, --add <nodes>', 'comma-separated inventory node names to add, in order')
    .option('--allow-even-size', 'permit an even number of voting members at the end')
    .option('--no-wait', 'start the run and return without following it')
    .action(async (o) => { process.exitCode = await expandCommand(o); });
  program.command('status')
    .description('members, leader, raft index, db size and health of every member')
    .requiredOption('-i, --inventory <file>', 'inventory YAML of the cluster')
    .option('--json', 'print JSON')
    .action(async (o) => { process.exitCode = await statusCommand(o); });
  program.command('history')
    .description("a run's audit trail: each step's commands, nodes, exit codes, durations, output, approvals")
    .argument('<workflow-id>', 'e.g. etcd-runbooks-<cluster>')
    .option('--run-id <id>', 'a specific run (default: the latest)')
    .option('--json', 'print JSON rows')
    .action(async (id, o) => { process.exitCode = await historyCommand(id, o); });
  program.command('worker')
    .description('run the worker that executes runbook steps (needs SSH access to the nodes)')
    .option('-i, --inventory <path...>', 'inventory files or directories (default: ETCD_RUNBOOKS_INVENTORY)', [])
    .action(async (o) => { await runWorker(o.inventory); });
  program.command('lab')
    .description('the rehearsal lab of real Debian nodes (root): up [--nodes N], down, status, crash|start|freeze|thaw|partition|heal|wipe NODE, ssh NODE')
    .allowUnknownOption().helpOption(false)
    .argument('[args...]')
    .action((args: string[]) => {
      const r = spawnSync(join(__dirname, '..', 'lab', 'lab'), args, { stdio: 'inherit' });
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
