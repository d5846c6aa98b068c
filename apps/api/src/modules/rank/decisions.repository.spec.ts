import { randomUUID } from 'node:crypto';
import { useRankingDatabase } from '../../../../../test/support/test-db';
import { DecisionsRepository, NewDecision } from './decisions.repository';

function decision(experimentId: string, unitId: string): NewDecision {
  return {
    id: randomUUID(),
    experimentId,
    variantKey: 'ts',
    unitId,
    seed: 42,
    modelVersion: 'none+thompson:hybrid@0',
    policy: { type: 'thompson', model: 'hybrid' },
    context: [0.1 + 0.2, -1.5],
    shortlist: { ids: ['a', 'b', 'c'], rankerScores: [3, 2, 1], features: [[1], [2], [3]], embeddings: { '1': [0.5] } },
    candidateCount: 7,
    replica: 'replica-1',
    slots: [
      { position: 1, itemId: 'b', shortlistIndex: 1, score: 0.25, propensity: 0.5, explored: true, coldStart: false },
      { position: 2, itemId: 'a', shortlistIndex: 0, score: null, propensity: null, explored: false, coldStart: true },
    ],
  };
}

describe('DecisionsRepository (on the database)', () => {
  const ctx = useRankingDatabase('decisions');

  const stored = (ids: string[]) =>
    ctx.ds.query(
      `SELECT d.id, d.unit_id, d.seed, d.context, d.shortlist, d.policy, d.candidate_count, d.replica, d.in_model,
              json_agg(json_build_object('position', s.position, 'itemId', s.item_id, 'shortlistIndex', s.shortlist_index, 'score', s.score,
                'propensity', s.propensity, 'explored', s.explored, 'coldStart', s.cold_start) ORDER BY s.position) AS slots
       FROM decisions d JOIN decision_slots s ON s.decision_id = d.id WHERE d.id = ANY($1::uuid[]) GROUP BY d.id ORDER BY d.seq`,
      [ids],
    );

  it('writes concurrent inserts in one statement, each durable (decision and slots) when its promise resolves', async () => {
    const repo = new DecisionsRepository(ctx.ds);
    const query = jest.spyOn(ctx.ds, 'query');
    const batch = Array.from({ length: 5 }, (_, i) => decision(ctx.experimentId, `unit-${i}`));
    try {
      await Promise.all(batch.map((d) => repo.insert(d)));
      expect(query).toHaveBeenCalledTimes(1);
    } finally {
      query.mockRestore();
    }
    const rows = await stored(batch.map((d) => d.id));
    // In call order (seq is the replay order), every field as given.
    expect(rows.map((r: { id: string }) => r.id)).toEqual(batch.map((d) => d.id));
    expect(rows[0]).toEqual({
      id: batch[0].id,
      unit_id: 'unit-0',
      seed: '42',
      context: batch[0].context,
      shortlist: batch[0].shortlist,
      policy: batch[0].policy,
      candidate_count: 7,
      replica: 'replica-1',
      in_model: false,
      slots: batch[0].slots,
    });
  });

  it('a bad decision fails only its own caller: the batch is written again one by one', async () => {
    const repo = new DecisionsRepository(ctx.ds);
    const good = [decision(ctx.experimentId, 'ok-1'), decision(ctx.experimentId, 'ok-2')];
    const bad = decision(randomUUID(), 'no-such-experiment'); // violates the experiment foreign key
    const results = await Promise.allSettled([repo.insert(good[0]), repo.insert(bad), repo.insert(good[1])]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((await stored([...good, bad].map((d) => d.id))).map((r: { id: string }) => r.id)).toEqual(
      good.map((d) => d.id),
    );
  });

  it('writes what is still pending before the module is destroyed', async () => {
    const repo = new DecisionsRepository(ctx.ds);
    const pending = Array.from({ length: 3 }, (_, i) => decision(ctx.experimentId, `late-${i}`));
    const calls = pending.map((d) => repo.insert(d));
    await repo.onModuleDestroy();
    expect(await stored(pending.map((d) => d.id))).toHaveLength(3);
    await Promise.all(calls);
  });
});
