import { assign as libAssign, bucketOf, diffAllocations, inRanges, rampVariants } from '@slotwise/assignment';
import type { Allocation, BucketRange } from '@slotwise/assignment';
import { DataSource } from 'typeorm';
import { AssignmentService } from '../apps/api/src/modules/ab/assignment.service';
import { abExperiment, rankingExperiment, startTestApp, TestApp } from './support/test-app';

/** Assignment, targeting, layers, ramps and phases, shipping and unit erasure, through HTTP and the service. */
describe('A/B assignment engine', () => {
  let t: TestApp;
  let db: DataSource;
  let svc: AssignmentService;
  const keys: Record<string, string> = {};
  const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
  const saltOf = async (key: string): Promise<string> =>
    (await db.query(`SELECT salt FROM experiments WHERE key = $1`, [key]))[0].salt;
  const create = async (body: Record<string, unknown>, start = true) => {
    const res = await t.call('POST', '/v1/experiments', { body });
    expect(res.status).toBe(201);
    if (start) expect((await t.call('POST', `/v1/experiments/${body.key}/start`)).status).toBe(200);
  };

  beforeAll(async () => {
    t = await startTestApp();
    db = t.running.app.get(DataSource);
    svc = t.running.app.get(AssignmentService);
    for (const role of ['serving', 'viewer', 'editor'] as const) {
      keys[role] = (await t.call('POST', '/v1/api-keys', { body: { name: role, role } })).body.key;
    }
  });
  afterAll(() => t.close(true));

  describe('POST /v1/assign', () => {
    it('answers not_running before start, 404 for an unknown experiment, 400 with paths, 403 for a viewer', async () => {
      await create(abExperiment('color'), false);
      const draft = await t.call('POST', '/v1/assign', {
        key: keys.serving,
        body: { experiment: 'color', unitId: 'u-1' },
      });
      expect(draft.status).toBe(200);
      expect(draft.body).toEqual({
        experiment: 'color',
        variant: null,
        config: null,
        inExperiment: false,
        reason: 'not_running',
      });
      expect(
        (await t.call('POST', '/v1/assign', { key: keys.serving, body: { experiment: 'nope-nope', unitId: 'u-1' } }))
          .status,
      ).toBe(404);
      const bad = await t.call('POST', '/v1/assign', {
        key: keys.serving,
        body: { experiment: 'color', unitId: 'has\u0085next-line', attributes: { plan: { nested: 1 } } },
      });
      expect(bad.status).toBe(400);
      expect(bad.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['attributes.plan', 'unitId']);
      expect(
        (await t.call('POST', '/v1/assign', { key: keys.viewer, body: { experiment: 'color', unitId: 'u-1' } })).status,
      ).toBe(403);
    });

    it('assigns as libs/assignment does, returns the config, and logs the exposure once with its first time', async () => {
      expect((await t.call('POST', '/v1/experiments/color/start')).status).toBe(200);
      const salt = await saltOf('color');
      const def = {
        key: 'color',
        status: 'running',
        salt,
        variants: [
          { key: 'control', weight: 1 },
          { key: 'treatment', weight: 1 },
        ],
      };
      const configs: Record<string, unknown> = { control: { color: 'blue' }, treatment: { color: 'green' } };
      for (const unitId of ids('c', 20)) {
        const expected = libAssign(def, unitId);
        const res = await t.call('POST', '/v1/assign', { key: keys.serving, body: { experiment: 'color', unitId } });
        expect(res.body).toEqual({
          experiment: 'color',
          variant: expected.variant,
          config: configs[expected.variant!],
          inExperiment: true,
        });
      }
      const first = await db.query(
        `SELECT first_at FROM exposures x JOIN experiments e ON e.id = x.experiment_id WHERE e.key = 'color' AND unit_id = 'c-0'`,
      );
      for (let i = 0; i < 5; i++)
        await t.call('POST', '/v1/assign', { key: keys.serving, body: { experiment: 'color', unitId: 'c-0' } });
      const rows = await db.query(
        `SELECT phase, variant, first_at FROM exposures x JOIN experiments e ON e.id = x.experiment_id WHERE e.key = 'color' AND unit_id = 'c-0'`,
      );
      expect(rows).toHaveLength(1);
      expect(rows[0].first_at).toEqual(first[0].first_at);
      expect(rows[0].phase).toBe(1);
      expect(
        (
          await db.query(
            `SELECT count(*)::int AS n FROM exposures x JOIN experiments e ON e.id = x.experiment_id WHERE e.key = 'color'`,
          )
        )[0].n,
      ).toBe(20);
      expect((await t.call('GET', '/v1/experiments/color')).body).toMatchObject({ phase: 1, shippedVariant: null });
    });

    it('start requires a primary metric and a valid targeting rule (400 at create with paths)', async () => {
      await create(abExperiment('no-primary', { metrics: {} }), false);
      const res = await t.call('POST', '/v1/experiments/no-primary/start');
      expect(res.status).toBe(409);
      expect(res.body.errors).toEqual([{ path: 'metrics.primary', message: 'a primary metric is required to start' }]);
      expect((await t.call('GET', '/v1/experiments/no-primary')).body.status).toBe('draft');
      const bad = await t.call('POST', '/v1/experiments', {
        body: abExperiment('bad-targeting', {
          targeting: {
            op: 'and',
            rules: [
              { op: 'eq', attr: 'country', value: 'US' },
              { op: 'gt', attr: 'age', value: [1] },
            ],
          },
        }),
      });
      expect(bad.status).toBe(400);
      expect(bad.body.errors.map((e: { path: string }) => e.path)).toEqual(['targeting.rules[1].value']);
    });

    it('targeting truth table through /v1/assign', async () => {
      const targeting = {
        op: 'and',
        rules: [
          { op: 'in', attr: 'country', value: ['US', 'CA'] },
          { op: 'gte', attr: 'appVersion', value: 412 },
          { op: 'not', rule: { op: 'regex', attr: 'email', pattern: '@example\\.com$', flags: 'i' } },
        ],
      };
      await create(abExperiment('targeted', { targeting }));
      const cases: Array<[Record<string, unknown>, boolean]> = [
        [{ country: 'US', appVersion: 500, email: 'a@b.com' }, true],
        [{ country: 'US', appVersion: 412 }, true], // no email: the regex is false, its negation true
        [{ country: 'CA', appVersion: 1e6, email: 'x@example.org' }, true],
        [{ country: 'FR', appVersion: 500 }, false],
        [{ country: 'CA', appVersion: 411 }, false],
        [{ country: 'CA', appVersion: '500' }, false], // a string is not a number: no coercion
        [{ country: 'US', appVersion: 412, email: 'x@EXAMPLE.com' }, false],
        [{ country: 'us', appVersion: 500 }, false],
        [{ appVersion: 500 }, false],
        [{}, false],
      ];
      for (const [attributes, inside] of cases) {
        const res = await t.call('POST', '/v1/assign', {
          key: keys.serving,
          body: { experiment: 'targeted', unitId: 'tt-1', attributes },
        });
        expect(res.status).toBe(200);
        if (inside) {
          expect(res.body.inExperiment).toBe(true);
          expect(['control', 'treatment']).toContain(res.body.variant);
          expect(res.body.reason).toBeUndefined();
        } else {
          expect(res.body).toEqual({
            experiment: 'targeted',
            variant: null,
            config: null,
            inExperiment: false,
            reason: 'targeting',
          });
        }
      }
    });

    it('traffic percent keeps the share out with reason traffic', async () => {
      await create(abExperiment('half', { trafficPercent: 50 }));
      const salt = await saltOf('half');
      const def = {
        key: 'half',
        status: 'running',
        salt,
        trafficPercent: 50,
        variants: [
          { key: 'control', weight: 1 },
          { key: 'treatment', weight: 1 },
        ],
      };
      const all = ids('h', 400);
      const got = await Promise.all(all.map((u) => svc.assignForServing('half', u)));
      got.forEach((g, i) => {
        const e = libAssign(def, all[i]);
        expect([g.variant, g.inExperiment, g.reason]).toEqual([e.variant, e.inExperiment, e.reason]);
      });
      const out = got.filter((g) => g.reason === 'traffic').length;
      expect(out).toBeGreaterThan(150);
      expect(out).toBeLessThan(250);
      expect(
        (
          await db.query(
            `SELECT count(*)::int AS n FROM exposures x JOIN experiments e ON e.id = x.experiment_id WHERE e.key = 'half'`,
          )
        )[0].n,
      ).toBe(400 - out);
    });
  });

  describe('layers', () => {
    it('experiments of a layer never share a unit; holdout units are in none; a full layer refuses a start', async () => {
      const put = await t.call('PUT', '/v1/layers/home', { key: keys.editor, body: { holdoutPercent: 10 } });
      expect(put.status).toBe(200);
      expect(put.body).toMatchObject({
        key: 'home',
        salt: 'home',
        holdoutPercent: 10,
        holdout: [{ start: 0, end: 1000 }],
        experiments: {},
        freePercent: 90,
      });
      await create(rankingExperiment('home-a', { layer: 'home', trafficPercent: 30 }));
      await create(abExperiment('home-b', { layer: 'home', trafficPercent: 30 }));
      await create(abExperiment('home-c', { layer: 'home', trafficPercent: 20 }));
      await create(abExperiment('home-d', { layer: 'home', trafficPercent: 20 }), false);
      const full = await t.call('POST', '/v1/experiments/home-d/start');
      expect(full.status).toBe(409);
      expect(full.body.type).toContain('layer-full');
      expect(full.body.detail).toContain('10.00 % is free for "home-d"');

      const layer = (await t.call('GET', '/v1/layers/home', { key: keys.viewer })).body;
      expect(layer.freePercent).toBe(10);
      expect(layer.experiments).toEqual({
        'home-a': { percent: 30, ranges: [{ start: 1000, end: 4000 }] },
        'home-b': { percent: 30, ranges: [{ start: 4000, end: 7000 }] },
        'home-c': { percent: 20, ranges: [{ start: 7000, end: 9000 }] },
      });
      const owners: Record<string, BucketRange[]> = Object.fromEntries(
        Object.entries(layer.experiments).map(([k, v]) => [k, (v as { ranges: BucketRange[] }).ranges]),
      );

      const units = ids('lay', 2000);
      const exps = ['home-a', 'home-b', 'home-c'];
      const results = await Promise.all(exps.map((k) => Promise.all(units.map((u) => svc.assignForServing(k, u)))));
      const tally: Record<string, number> = { holdout: 0, none: 0, 'home-a': 0, 'home-b': 0, 'home-c': 0 };
      units.forEach((u, i) => {
        const lb = bucketOf('home', u);
        const inside = exps.filter((_, e) => results[e][i].inExperiment);
        expect(inside.length).toBeLessThanOrEqual(1);
        if (inRanges(layer.holdout, lb)) {
          tally.holdout++;
          expect(inside).toEqual([]);
          for (let e = 0; e < 3; e++) expect(results[e][i].reason).toBe('holdout');
        } else {
          const owner = exps.find((k) => inRanges(owners[k], lb)) ?? null;
          expect(inside).toEqual(owner ? [owner] : []);
          tally[owner ?? 'none']++;
          exps.forEach((k, e) => {
            if (k !== owner) expect(results[e][i].reason).toBe('layer');
          });
        }
      });
      expect(tally.holdout + tally.none + tally['home-a'] + tally['home-b'] + tally['home-c']).toBe(2000);
      for (const [k, share] of [
        ['holdout', 0.1],
        ['none', 0.1],
        ['home-a', 0.3],
        ['home-b', 0.3],
        ['home-c', 0.2],
      ] as const) {
        expect(Math.abs(tally[k] / 2000 - share)).toBeLessThan(0.04);
      }

      // Stopping home-c frees its share: home-d fits now and takes the lowest free layer buckets.
      expect((await t.call('POST', '/v1/experiments/home-c/stop')).status).toBe(200);
      expect((await t.call('POST', '/v1/experiments/home-d/start')).status).toBe(200);
      const after = (await t.call('GET', '/v1/layers/home')).body;
      expect(after.experiments['home-d']).toEqual({ percent: 20, ranges: [{ start: 7000, end: 9000 }] });
      expect(after.experiments['home-c']).toBeUndefined();
      expect((await svc.assignForServing('home-c', 'lay-1')).reason).toBe('not_running');
      // The holdout cannot grow into experiments' buckets; the salt cannot change while experiments hold buckets.
      expect((await t.call('PUT', '/v1/layers/home', { body: { holdoutPercent: 25 } })).status).toBe(409);
      expect((await t.call('PUT', '/v1/layers/home', { body: { holdoutPercent: 10, salt: 'other' } })).status).toBe(
        409,
      );
      expect((await t.call('PUT', '/v1/layers/home', { key: keys.viewer, body: { holdoutPercent: 10 } })).status).toBe(
        403,
      );
      expect((await t.call('GET', '/v1/layers/nope')).status).toBe(404);
      // A layered experiment's share follows its traffic percent while live.
      expect((await t.call('PATCH', '/v1/experiments/home-b', { body: { trafficPercent: 35 } })).status).toBe(200);
      expect((await t.call('GET', '/v1/layers/home')).body.experiments['home-b']).toEqual({
        percent: 35,
        ranges: [
          { start: 4000, end: 7000 },
          { start: 9000, end: 9500 },
        ],
      });
      expect((await t.call('PATCH', '/v1/experiments/home-b', { body: { layer: 'elsewhere' } })).status).toBe(409);
    });
  });

  describe('ramps and phases', () => {
    it('after a weight change exactly the units predicted by diffAllocations move, in a new audited phase', async () => {
      await create(
        abExperiment('ramp', {
          variants: [
            { key: 'control', weight: 50 },
            { key: 'treatment', weight: 50 },
          ],
        }),
      );
      const salt = await saltOf('ramp');
      const units = ids('r', 2000);
      const before = await Promise.all(units.map((u) => svc.assignForServing('ramp', u)));
      const patched = await t.call('PATCH', '/v1/experiments/ramp', {
        body: {
          variants: [
            { key: 'control', weight: 40 },
            { key: 'treatment', weight: 60 },
          ],
        },
      });
      expect(patched.status).toBe(200);
      expect(patched.body.phase).toBe(2);
      const after = await Promise.all(units.map((u) => svc.assignForServing('ramp', u)));

      const audit = (await t.call('GET', '/v1/audit?entityId=ramp')).body.entries;
      const phaseEntry = audit.find((e: { action: string }) => e.action === 'experiment.phase');
      expect(phaseEntry.before.phase).toBe(1);
      expect(phaseEntry.after.phase).toBe(2);
      const a1: Allocation = phaseEntry.before.allocation;
      const a2: Allocation = phaseEntry.after.allocation;
      expect(a1).toEqual(
        rampVariants(undefined, [
          { key: 'control', weight: 50 },
          { key: 'treatment', weight: 50 },
        ]),
      );
      expect(a2).toEqual(
        rampVariants(a1, [
          { key: 'control', weight: 40 },
          { key: 'treatment', weight: 60 },
        ]),
      );
      const moved = diffAllocations(a1, a2).changes;
      expect(moved).toEqual([{ from: 'control', to: 'treatment', range: { start: 4000, end: 5000 } }]);

      const predicted = units.filter((u) => moved.some((c) => inRanges([c.range], bucketOf(salt, u))));
      const actual = units.filter((_, i) => before[i].variant !== after[i].variant);
      expect(actual).toEqual(predicted);
      expect(actual.length).toBeGreaterThan(120);
      for (const u of actual) {
        const i = units.indexOf(u);
        expect([before[i].variant, after[i].variant]).toEqual(['control', 'treatment']);
      }
      // Every unit is exposed again in phase 2 (reports use the latest phase).
      const counts = await db.query(
        `SELECT phase, count(*)::int AS n FROM exposures x JOIN experiments e ON e.id = x.experiment_id WHERE e.key = 'ramp' GROUP BY phase ORDER BY phase`,
      );
      expect(counts).toEqual([
        { phase: 1, n: 2000 },
        { phase: 2, n: 2000 },
      ]);
      const phases = await db.query(
        `SELECT phase, ended_at IS NOT NULL AS ended FROM experiment_phases p JOIN experiments e ON e.id = p.experiment_id WHERE e.key = 'ramp' ORDER BY phase`,
      );
      expect(phases).toEqual([
        { phase: 1, ended: true },
        { phase: 2, ended: false },
      ]);
      // Same split with other numbers is not a new phase.
      expect(
        (
          await t.call('PATCH', '/v1/experiments/ramp', {
            body: {
              variants: [
                { key: 'control', weight: 2 },
                { key: 'treatment', weight: 3 },
              ],
            },
          })
        ).body.phase,
      ).toBe(2);
    });
  });

  describe('stop and ship', () => {
    it('stop freezes assignment; ship serves the winner to everyone, audited', async () => {
      await create(abExperiment('shipme'));
      expect((await svc.assignForServing('shipme', 's-1')).inExperiment).toBe(true);
      const bogus = await t.call('POST', '/v1/experiments/shipme/ship', { body: { variant: 'purple' } });
      expect(bogus.status).toBe(400);
      expect(bogus.body.errors[0].path).toBe('variant');
      expect(
        (await t.call('POST', '/v1/experiments/shipme/ship', { key: keys.viewer, body: { variant: 'treatment' } }))
          .status,
      ).toBe(403);
      expect((await t.call('POST', '/v1/experiments/shipme/stop')).status).toBe(200);
      const stopped = await t.call('POST', '/v1/assign', {
        key: keys.serving,
        body: { experiment: 'shipme', unitId: 's-1' },
      });
      expect(stopped.body).toEqual({
        experiment: 'shipme',
        variant: null,
        config: null,
        inExperiment: false,
        reason: 'not_running',
      });

      const shipped = await t.call('POST', '/v1/experiments/shipme/ship', {
        key: keys.editor,
        body: { variant: 'treatment' },
      });
      expect(shipped.status).toBe(200);
      expect(shipped.body).toMatchObject({ status: 'stopped', shippedVariant: 'treatment' });
      for (const unitId of ['s-1', 's-2', 'anyone']) {
        const res = await t.call('POST', '/v1/assign', { key: keys.serving, body: { experiment: 'shipme', unitId } });
        expect(res.body).toEqual({
          experiment: 'shipme',
          variant: 'treatment',
          config: { color: 'green' },
          inExperiment: false,
          reason: 'shipped',
        });
      }
      expect((await t.call('POST', '/v1/experiments/shipme/ship', { body: { variant: 'control' } })).status).toBe(409);
      const audit = (await t.call('GET', '/v1/audit?entityType=experiment&entityId=shipme')).body.entries;
      expect(audit[0]).toMatchObject({
        action: 'experiment.ship',
        before: { status: 'stopped', shippedVariant: null },
        after: { status: 'stopped', shippedVariant: 'treatment' },
      });
      // Shipping a running experiment stops it too.
      await create(abExperiment('shiplive'));
      const live = await t.call('POST', '/v1/experiments/shiplive/ship', { body: { variant: 'control' } });
      expect(live.body).toMatchObject({ status: 'stopped', shippedVariant: 'control' });
      expect(live.body.stoppedAt).toBeTruthy();
    });
  });

  describe('DELETE /v1/units/{unitId}', () => {
    it('erases the unit’s exposures and events, audited without the unit id; its next assignment is logged again', async () => {
      await svc.assignForServing('color', 'erase-me');
      await svc.assignForServing('half', 'erase-me');
      const ev = await t.call('POST', '/v1/events', {
        key: keys.serving,
        body: {
          events: [
            { unitId: 'erase-me', metric: 'purchase', value: 3, eventId: 'er-1' },
            { unitId: 'erase-me', metric: 'visit' },
            { unitId: 'keep-me', metric: 'visit' },
          ],
        },
      });
      expect(ev.body.accepted).toBe(3);
      const exposuresBefore = (await db.query(`SELECT count(*)::int AS n FROM exposures WHERE unit_id = 'erase-me'`))[0]
        .n;
      expect(exposuresBefore).toBeGreaterThanOrEqual(1);

      expect((await t.call('DELETE', '/v1/units/erase-me', { key: keys.editor })).status).toBe(403);
      const res = await t.call('DELETE', '/v1/units/erase-me');
      expect(res.status).toBe(200);
      expect(res.body.erased).toEqual({
        exposures: exposuresBefore,
        events: 2,
        decisions: 0,
        features: 0,
        queuedFeatureEvents: 0,
        history: 0,
        triggers: 0,
      });
      expect((await db.query(`SELECT count(*)::int AS n FROM exposures WHERE unit_id = 'erase-me'`))[0].n).toBe(0);
      expect((await db.query(`SELECT count(*)::int AS n FROM events WHERE unit_id = 'erase-me'`))[0].n).toBe(0);
      expect((await db.query(`SELECT count(*)::int AS n FROM events WHERE unit_id = 'keep-me'`))[0].n).toBe(1);

      const audit = (await t.call('GET', `/v1/audit?entityId=${res.body.erasureId}`)).body.entries;
      expect(audit).toHaveLength(1);
      expect(audit[0]).toMatchObject({
        action: 'unit.erase',
        entityType: 'unit-erasure',
        after: { erased: { exposures: exposuresBefore, events: 2 } },
      });
      expect(JSON.stringify(audit)).not.toContain('erase-me');

      await svc.assignForServing('color', 'erase-me');
      expect((await db.query(`SELECT count(*)::int AS n FROM exposures WHERE unit_id = 'erase-me'`))[0].n).toBe(1);
      // An event id that was erased may be sent again (it is a new event now).
      expect(
        (
          await t.call('POST', '/v1/events', {
            key: keys.serving,
            body: { events: [{ unitId: 'erase-me', metric: 'purchase', eventId: 'er-1' }] },
          })
        ).body.accepted,
      ).toBe(1);
    });
  });
});
