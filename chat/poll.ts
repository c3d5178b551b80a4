/**
 * Calls `read` every `intervalMs` until stop(): the loop of the bridges' readers of Temporal
 * (drill alerts, proposals). An error of one read is logged with `label` and the next read tries
 * again; errors after stop() (requests aborted) are not logged.
 */
export class PollLoop {
  private stopped = false;
  private loop?: Promise<void>;
  private timer?: NodeJS.Timeout;
  private wake?: () => void;

  constructor(private readonly read: () => Promise<void>, private readonly intervalMs: number, private readonly label: string, private readonly log: (m: string) => void = console.error) {}

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      await this.read().catch((e: Error) => { if (!this.stopped) this.log(`${this.label}: ${e.message}`); });
      if (this.stopped) return;
      await new Promise<void>((r) => { this.wake = r; this.timer = setTimeout(r, this.intervalMs); });
    }
  }
}
