import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';

const REPO = join(__dirname, '..', '..');

/** The worker as its own OS process (`bin/etcd-runbooks worker`), as in production, so a test can SIGKILL it. */
export class WorkerProcess {
  private child?: ChildProcess;
  starts = 0;

  constructor(private readonly taskQueue: string, private readonly inventory: string, private readonly logFile = join(REPO, '.state', `worker-${taskQueue}.log`)) {
    mkdirSync(join(REPO, '.state'), { recursive: true });
  }

  /** Starts a worker and resolves once it is created and about to poll. */
  async start(): Promise<void> {
    const log = createWriteStream(this.logFile, { flags: 'a' });
    const child = spawn(join(REPO, 'bin', 'etcd-runbooks'), ['worker', '--inventory', this.inventory], {
      env: { ...process.env, ETCD_RUNBOOKS_TASK_QUEUE: this.taskQueue }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.starts++;
    child.stdout!.pipe(log);
    await new Promise<void>((resolve, reject) => {
      let buf = '';
      child.stderr!.on('data', (d: Buffer) => {
        log.write(d);
        buf += d.toString();
        if (buf.includes('worker: ready')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`worker exited with ${code} before it was ready (log ${this.logFile})`)));
    });
  }

  /** The running worker's OS process id (for RSS sampling). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** SIGKILL: the worker dies mid-whatever, as in a crash. */
  kill(): Promise<void> {
    return this.signal('SIGKILL');
  }

  /** SIGTERM: the worker drains and stops. */
  stop(): Promise<void> {
    return this.signal('SIGTERM');
  }

  private async signal(sig: NodeJS.Signals): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill(sig);
    await exited;
  }
}
