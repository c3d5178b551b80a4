import { Client, Connection } from '@temporalio/client';
import { liveAccess, type AccessRef } from '../config/access';
import { temporalConnection, temporalSettings } from '../config/temporal';
import { InventoryFiles } from '../service/inventories';
import { RunService } from '../service/runs';
import { MatrixBridge } from './matrix';
import { createSlackBridge } from './slack';

function need(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (secrets come from the environment, e.g. a systemd EnvironmentFile)`);
  return v;
}

async function serviceFor(inventory: string[]): Promise<{ service: RunService; connection: Connection; access: AccessRef }> {
  const settings = temporalSettings();
  const connection = Connection.lazy({ ...temporalConnection(settings), interceptors: [] });
  const client = new Client({ connection, namespace: settings.namespace, identity: 'etcd-runbooks-chat' });
  const paths = inventory.length ? inventory : (process.env.ETCD_RUNBOOKS_INVENTORY ?? '').split(':').filter(Boolean);
  const access = liveAccess();
  return { service: new RunService(client, settings.taskQueue, new InventoryFiles(paths), access), connection, access };
}

const untilSignal = () => new Promise<void>((resolve) => { for (const s of ['SIGTERM', 'SIGINT'] as const) process.once(s, () => resolve()); });

/**
 * `etcd-runbooks slack`: the Slack bridge. SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN; with
 * SLACK_APP_TOKEN it uses Socket Mode (no public URL needed), else HTTP mode on `port`.
 */
export async function runSlack(o: { inventory: string[]; port: string }): Promise<void> {
  const { service, connection, access } = await serviceFor(o.inventory);
  const bridge = createSlackBridge({
    service, access, signingSecret: need('SLACK_SIGNING_SECRET'), botToken: need('SLACK_BOT_TOKEN'),
    ...(process.env.SLACK_APP_TOKEN ? { appToken: process.env.SLACK_APP_TOKEN } : {}),
    ...(process.env.SLACK_API_URL ? { slackApiUrl: process.env.SLACK_API_URL } : {}),
    ...(process.env.SLACK_ALERT_CHANNEL ? { alertChannel: process.env.SLACK_ALERT_CHANNEL } : {}),
  });
  await bridge.start(Number(o.port));
  console.error(`slack: ${process.env.SLACK_APP_TOKEN ? 'socket mode' : `listening on :${o.port}/slack/events`}`);
  await untilSignal();
  await bridge.stop();
  await connection.close();
}

/** `etcd-runbooks matrix`: the Matrix bridge. MATRIX_HOMESERVER, MATRIX_USER_ID and MATRIX_ACCESS_TOKEN of the bot account; MATRIX_ALERT_ROOM (optional): where failed restore drills alert and the watches' proposals are posted. */
export async function runMatrix(o: { inventory: string[] }): Promise<void> {
  const { service, connection, access } = await serviceFor(o.inventory);
  const bridge = new MatrixBridge({ service, access, homeserver: need('MATRIX_HOMESERVER'), userId: need('MATRIX_USER_ID'), accessToken: need('MATRIX_ACCESS_TOKEN'),
    ...(process.env.MATRIX_ALERT_ROOM ? { alertRoom: process.env.MATRIX_ALERT_ROOM } : {}) });
  await bridge.start();
  console.error(`matrix: ${process.env.MATRIX_USER_ID} on ${process.env.MATRIX_HOMESERVER}`);
  await untilSignal();
  await bridge.stop();
  await connection.close();
}
