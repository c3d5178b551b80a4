import { defaultPayloadConverter } from '@temporalio/common';
import { breakdown, resumedAfterMs } from '../../bench/history';

const at = (msFromZero: number) => ({ seconds: Math.floor(msFromZero / 1000), nanos: (msFromZero % 1000) * 1e6 });
const result = (durations: number[]) => ({ payloads: [defaultPayloadConverter.toPayload({ commands: durations.map((durationMs) => ({ durationMs })) })] });

describe('bench: where a run\'s time went, from its history', () => {
  test('activity time per type (started -> completed), the commands inside it, and the rest as orchestration', () => {
    const events = [
      { eventId: 1, eventTime: at(0), workflowExecutionStartedEventAttributes: {} },
      { eventId: 5, eventTime: at(100), activityTaskScheduledEventAttributes: { activityType: { name: 'addLearner' } } },
      { eventId: 6, eventTime: at(150), activityTaskStartedEventAttributes: { scheduledEventId: 5 } },
      { eventId: 7, eventTime: at(1150), activityTaskCompletedEventAttributes: { scheduledEventId: 5, startedEventId: 6, result: result([300, 200]) } },
      { eventId: 11, eventTime: at(1300), activityTaskScheduledEventAttributes: { activityType: { name: 'startMember' } } },
      { eventId: 12, eventTime: at(1310), activityTaskStartedEventAttributes: { scheduledEventId: 11 } },
      { eventId: 13, eventTime: at(1810), activityTaskFailedEventAttributes: { scheduledEventId: 11, startedEventId: 12 } },
      { eventId: 14, eventTime: at(2000), activityTaskScheduledEventAttributes: { activityType: { name: 'addLearner' } } },
      { eventId: 15, eventTime: at(2000), activityTaskStartedEventAttributes: { scheduledEventId: 14 } },
      { eventId: 16, eventTime: at(2500), activityTaskCompletedEventAttributes: { scheduledEventId: 14, startedEventId: 15, result: result([100]) } },
      { eventId: 20, eventTime: at(3000), workflowExecutionCompletedEventAttributes: {} },
    ];
    const b = breakdown(events as never);
    expect(b.wallMs).toBe(3000);
    expect(b.steps).toEqual([
      { type: 'addLearner', count: 2, activityMs: 1500, commandMs: 600 },
      { type: 'startMember', count: 1, activityMs: 500, commandMs: 0 },
    ]);
    expect(b.orchestrationMs).toBe(1000);
  });

  test('activities that ran in parallel count once against the wall time', () => {
    const events = [
      { eventId: 1, eventTime: at(0), workflowExecutionStartedEventAttributes: {} },
      { eventId: 5, eventTime: at(10), activityTaskScheduledEventAttributes: { activityType: { name: 'inspectCluster' } } },
      { eventId: 6, eventTime: at(10), activityTaskScheduledEventAttributes: { activityType: { name: 'probeLiveness' } } },
      { eventId: 7, eventTime: at(20), activityTaskStartedEventAttributes: { scheduledEventId: 5 } },
      { eventId: 8, eventTime: at(30), activityTaskStartedEventAttributes: { scheduledEventId: 6 } },
      { eventId: 9, eventTime: at(420), activityTaskCompletedEventAttributes: { scheduledEventId: 5, startedEventId: 7, result: result([]) } },
      { eventId: 10, eventTime: at(530), activityTaskCompletedEventAttributes: { scheduledEventId: 6, startedEventId: 8, result: result([]) } },
      { eventId: 20, eventTime: at(1000), workflowExecutionCompletedEventAttributes: {} },
    ];
    const b = breakdown(events as never);
    expect(b.steps.map((x) => x.activityMs)).toEqual([400, 500]);
    expect(b.orchestrationMs).toBe(1000 - 510); // busy from 20 to 530
  });

  test('an empty history is all zero', () => {
    expect(breakdown([])).toEqual({ wallMs: 0, orchestrationMs: 0, steps: [] });
  });
});

describe('bench: time a worker crash cost', () => {
  const events = [
    { eventId: 1, eventTime: at(0), workflowExecutionStartedEventAttributes: {} },
    { eventId: 3, eventTime: at(100), workflowTaskStartedEventAttributes: { identity: '111@head' } },
    { eventId: 6, eventTime: at(900), activityTaskStartedEventAttributes: { scheduledEventId: 5, identity: '111@head' } },
    { eventId: 7, eventTime: at(9000), activityTaskStartedEventAttributes: { scheduledEventId: 5, identity: '2222@head' } },
    { eventId: 9, eventTime: at(9500), workflowTaskStartedEventAttributes: { identity: '2222@head' } },
  ];

  test('from the kill to the first task the new worker started', () => {
    expect(resumedAfterMs(events as never, 2000, '2222@')).toBe(7000);
  });

  test('undefined when the new worker never took a task, and tasks of the old worker never count', () => {
    expect(resumedAfterMs(events as never, 2000, '333@')).toBeUndefined();
    expect(resumedAfterMs(events as never, 2000, '111@')).toBeUndefined();
  });
});
