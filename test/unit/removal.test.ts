import { checkRemoval, type ObservedMember } from '../../domain/removal';
import type { MemberId } from '../../domain/memberId';

const m = (n: number, extra: Partial<ObservedMember> = {}): ObservedMember => ({
  id: `${n}` as MemberId, name: `node${n}`, peerURLs: [`https://10.0.0.${n}:2380`], clientURLs: [`https://10.0.0.${n}:2379`], isLearner: false, healthy: true, isLeader: n === 1, ...extra,
});
const url = (n: number) => `https://10.0.0.${n}:2380`;

describe('member removal check', () => {
  test('a healthy follower of 3 healthy voters can go', () => {
    expect(checkRemoval([m(1), m(2), m(3)], url(2)).problems).toEqual([]);
  });
  test('the leader is refused unless allowed', () => {
    expect(checkRemoval([m(1), m(2), m(3)], url(1)).problems).toEqual([expect.stringMatching(/is the leader; move leadership/)]);
    expect(checkRemoval([m(1), m(2), m(3)], url(1), true).problems).toEqual([]);
  });
  test('removing a healthy voter while another is down would break quorum', () => {
    expect(checkRemoval([m(1), m(2), m(3, { healthy: false })], url(2)).problems).toEqual([expect.stringMatching(/leave 1 healthy of 2 voting members, below the quorum of 2/)]);
  });
  test('removing the dead voter of 3 is fine (2 healthy of 2 remain)', () => {
    expect(checkRemoval([m(1), m(2), m(3, { healthy: false })], url(3)).problems).toEqual([]);
  });
  test('2 voting members to 1 is refused unless allowed, naming the restore (reference 000 §8.1); a learner of 3 members may go', () => {
    expect(checkRemoval([m(1), m(2)], url(2)).problems).toEqual([expect.stringMatching(/from 2 voting members to 1.*restore it on the other node.*--allow-two-to-one/)]);
    expect(checkRemoval([m(1), m(2)], url(2), false, true).problems).toEqual([]);
    expect(checkRemoval([m(1), m(2), m(3, { isLearner: true })], url(3)).problems).toEqual([]);
  });
  test('the last voter and absent members', () => {
    expect(checkRemoval([m(1, { isLeader: false })], url(1)).problems).toEqual([expect.stringMatching(/last voting member/)]);
    expect(checkRemoval([m(1)], url(9))).toEqual({ problems: [] });
  });
  test('a learner never affects quorum', () => {
    expect(checkRemoval([m(1), m(2, { healthy: false }), m(3, { isLearner: true, healthy: false })], url(3)).problems).toEqual([]);
  });
});
