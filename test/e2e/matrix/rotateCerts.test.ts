import type { WorkflowHandle } from '@temporalio/client';
import { progressQuery, rotateCerts } from '../../../workflows';
import type { RunbookProgress } from '../../../domain/progress';
import { INVENTORY, lab, onNode } from '../../support/lab';
import { Matrix } from '../../support/faults';
import { headNodeCA } from '../../support/inventoryEdit';
import { servedCertificates, type Served } from '../../support/certs';
import { eventually, startRun } from '../../support/temporal';
import { approveAs, cancelAs } from '../../support/decisions';

jest.setTimeout(20 * 60_000);

const NODES = ['node1', 'node2', 'node3'];
const PKI = '/etc/etcd/pki';

// rotate-certs of a 3-member cluster holding 200 MiB, one fault per case on node2 (the second
// member in inventory order), on one lab boot. Each run is started unapproved and the fault is
// injected while it waits for approval (or while node2's renewal is held by an `openssl` that
// sleeps first), so that it lands where the case says whatever the timing. Every case ends with
// every member serving the certificates it served before: the start of the next. Asserted from
// etcd itself (what each URL serves on a new handshake).
describe('fault matrix: rotate-certs', () => {
  const m = new Matrix('rotate-certs');
  let run: WorkflowHandle | undefined;
  let before: Record<string, { client: Served; peer: Served }>;
  /** Starts a run and waits until it asks for approval (the pre-flight passed). */
  const rotate = async () => {
    const h = await startRun(m.env, rotateCerts, { ...m.base(), days: 30 });
    run = h;
    await eventually('approval asked', async () => ((await h.query(progressQuery)).pendingApproval?.step === 'rotate' ? true : undefined), 120_000);
    return h;
  };
  /** node2's `openssl` sleeps `seconds` first (a shim ahead of /usr/bin in PATH): its renewal is held that long (set after the pre-flight, which reads what node2 serves with openssl). */
  const slowOpenssl = (seconds: number) => onNode('node2', `printf '#!/bin/sh\\nsleep ${seconds}\\nexec /usr/bin/openssl "$@"\\n' > /usr/local/bin/openssl && chmod 755 /usr/local/bin/openssl`);
  const fastOpenssl = () => onNode('node2', 'rm -f /usr/local/bin/openssl');
  const served = () => servedCertificates(m.inv, NODES);

  beforeAll(async () => {
    await m.freshLab(3, 3);
    headNodeCA(INVENTORY);
    before = await served();
  });
  afterAll(() => m.stop());
  afterEach(async () => {
    const p = await run?.query<RunbookProgress>('progress').catch(() => undefined);
    console.log(`rotate-certs steps: ${p?.steps.map((s) => `${s.id} ${s.status}${s.detail ? ` (${s.detail.slice(0, 120)})` : ''}`).join('; ')}`);
    // The case's end, from etcd: every URL serves what it served before the matrix.
    expect(await eventually('every URL serves', served, 90_000)).toEqual(before);
    expect(onNode('node1', `ls ${PKI}`)).not.toMatch(/etcd-runbooks-new|\.before-/);
  });

  test('SSH-only loss of node2 after approval: node1 renewed, node2 unreachable; node1 put back, node2 named', async () => {
    await m.runCase('ssh-only', { end: 'undone', minVoters: 3, members: NODES, leftoverOn: ['node2'] }, async () => {
      const h = await rotate();
      lab('block', 'node2', 'ssh');
      await approveAs(h, 'rotate');
      return h;
    }, () => lab('unblock', 'node2'));
  });

  test('crash of node2 while its renewal runs: node1 put back, node2 named as left over; its files as they were after it boots', async () => {
    await m.runCase('crash', { end: 'undone', minVoters: 2, leftoverOn: ['node2'] }, async () => {
      const h = await rotate();
      slowOpenssl(20);
      await approveAs(h, 'rotate');
      await m.stepReaches(h, 'rotate:node2', ['running']);
      await new Promise((r) => setTimeout(r, 2000));
      lab('crash', 'node2');
      return h;
    }, async () => {
      lab('start', 'node2');
      await eventually('node2 answers SSH', async () => (onNode('node2', 'true') === '' ? true : undefined), 120_000);
      fastOpenssl();
    });
    expect(onNode('node2', `ls ${PKI}`)).not.toMatch(/\.before-/);
  });

  test('cancel while node2 is renewed: node1 and node2 put back', async () => {
    try {
      await m.runCase('cancel', { end: 'undone', minVoters: 3, members: NODES }, async () => {
        const h = await rotate();
        slowOpenssl(20);
        await approveAs(h, 'rotate');
        await m.stepReaches(h, 'rotate:node2', ['running']);
        await cancelAs(h);
        return h;
      });
    } finally {
      fastOpenssl();
    }
  });

  test(`full disk where it writes (${PKI} on node2 a full 64 KiB filesystem): node2's renewed file cannot be written; node1 put back`, async () => {
    // The certificates copied onto a small tmpfs mounted over the directory, which is then filled.
    onNode('node2', `rm -rf /root/pki-copy && cp -a ${PKI} /root/pki-copy`);
    lab('smalldisk', 'node2', PKI, '64k');
    onNode('node2', `cp -a /root/pki-copy/. ${PKI}/ && chmod --reference=/root/pki-copy ${PKI} && chown --reference=/root/pki-copy ${PKI}; dd if=/dev/zero of=${PKI}/fill bs=4k 2>/dev/null; true`);
    try {
      await m.runCase('full disk', { end: 'undone', minVoters: 3, members: NODES }, async () => {
        const h = await rotate();
        await approveAs(h, 'rotate');
        return h;
      });
    } finally {
      lab('bigdisk', 'node2', PKI);
    }
    const steps = (await run!.query<RunbookProgress>('progress')).steps;
    expect(steps.find((s) => s.id === 'rotate:node2')?.detail ?? '').toMatch(/No space left on device|cannot|exit/i);
  });
});
