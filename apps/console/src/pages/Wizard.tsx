import { useEffect, useMemo, useState } from 'react';
import { Button, Card, Field } from '../components/ui';
import { api, ApiError, errorMessage } from '../lib/api';
import { can, useUser } from '../lib/auth';
import { int, slugify } from '../lib/format';
import { Link, navigate } from '../lib/router';
import {
  EXPERIMENT_KEY,
  METRIC_KEY,
  MODEL_REF_PATTERN,
  POLICY_DEFAULTS,
  POLICY_TYPES,
  type sampleSizeResultSchema,
  THOMPSON_MODELS,
} from '@slotwise/contracts';
import type { z } from 'zod';
import type { Experiment } from '../lib/types';

const KEY_RE = EXPERIMENT_KEY;
const VARIANT_RE = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const METRIC_RE = METRIC_KEY;
const FEATURE_RE = /^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$/;
const OPS = [
  ['eq', 'equals'],
  ['neq', 'does not equal'],
  ['in', 'is one of'],
  ['nin', 'is none of'],
  ['gt', '>'],
  ['gte', '≥'],
  ['lt', '<'],
  ['lte', '≤'],
  ['exists', 'is set'],
] as const;

interface VariantDraft {
  key: string;
  weight: string;
  policy: (typeof POLICY_TYPES)[number];
  model: (typeof THOMPSON_MODELS)[number];
  epsilon: string;
  config: string;
}
interface RuleDraft {
  attr: string;
  op: (typeof OPS)[number][0];
  value: string;
}
interface Draft {
  kind: 'ab' | 'ranking';
  name: string;
  key: string;
  keyTouched: boolean;
  hypothesis: string;
  variants: VariantDraft[];
  slots: string;
  contextFeatures: string;
  itemFeatures: string;
  rankerModel: string;
  coldStartThreshold: string;
  primary: string;
  guardrails: string;
  secondary: string;
  layer: string;
  traffic: string;
  rules: RuleDraft[];
}

const variant = (key: string, policy: VariantDraft['policy'] = 'ranker', config = ''): VariantDraft => ({
  key,
  weight: '50',
  policy,
  model: POLICY_DEFAULTS.thompson.model as VariantDraft['model'],
  epsilon: String(POLICY_DEFAULTS['epsilon-greedy'].epsilon),
  config,
});

function initial(kind: 'ab' | 'ranking'): Draft {
  return {
    kind,
    name: '',
    key: '',
    keyTouched: false,
    hypothesis: '',
    variants:
      kind === 'ranking'
        ? [variant('control', 'ranker'), variant('ts', 'thompson')]
        : [variant('control', 'ranker', '{}'), variant('treatment', 'ranker', '{}')],
    slots: '5',
    contextFeatures: '',
    itemFeatures: '',
    rankerModel: 'none',
    coldStartThreshold: '100',
    primary: kind === 'ranking' ? 'reward' : '',
    guardrails: '',
    secondary: '',
    layer: '',
    traffic: '100',
    rules: [],
  };
}

const list = (s: string) =>
  s
    .split(/[,\s]+/)
    .map((x) => x.trim())
    .filter(Boolean);

const STEPS = ['Type', 'Variants', 'Metrics', 'Audience', 'Review'] as const;

/** Client-side checks mirroring the API's, so mistakes show while typing; the API has the last word. */
function validate(d: Draft): Record<string, string> {
  const e: Record<string, string> = {};
  if (!d.name.trim()) e.name = 'Give the experiment a name.';
  if (!KEY_RE.test(d.key)) e.key = '2–64 characters: a–z, 0–9, _ or -, starting with a letter or digit.';
  const seen = new Set<string>();
  d.variants.forEach((v, i) => {
    if (!VARIANT_RE.test(v.key)) e[`variants[${i}].key`] = 'a–z, 0–9, _ or -.';
    else if (seen.has(v.key)) e[`variants[${i}].key`] = `“${v.key}” is used twice.`;
    seen.add(v.key);
    const w = Number(v.weight);
    if (!(w > 0) || !Number.isFinite(w)) e[`variants[${i}].weight`] = 'A weight above 0.';
    if (d.kind === 'ranking' && v.policy === 'epsilon-greedy') {
      const eps = Number(v.epsilon);
      if (!(eps >= 0 && eps <= 1) || v.epsilon === '') e[`variants[${i}].policy.epsilon`] = 'Between 0 and 1.';
    }
    if (d.kind === 'ab' && v.config.trim()) {
      try {
        const c = JSON.parse(v.config);
        if (!c || typeof c !== 'object' || Array.isArray(c))
          e[`variants[${i}].config`] = 'A JSON object, e.g. {"color": "green"}.';
      } catch {
        e[`variants[${i}].config`] = 'Not valid JSON.';
      }
    }
  });
  if (d.kind === 'ab' && d.variants.length < 2) e.variants = 'An A/B test needs at least two variants.';
  if (d.variants.length < 1) e.variants = 'Add a variant.';
  if (d.kind === 'ranking') {
    const s = Number(d.slots);
    if (!Number.isInteger(s) || s < 1 || s > 50) e.slots = 'Between 1 and 50.';
    const ctx = list(d.contextFeatures);
    const item = list(d.itemFeatures);
    const bad = [...ctx, ...item].find((f) => !FEATURE_RE.test(f));
    if (bad) e.features = `“${bad}” is not a valid feature name.`;
    const dup = [...ctx, ...item].find((f, i, all) => all.indexOf(f) !== i);
    if (dup) e.features = `“${dup}” appears twice; feature names must be unique.`;
    if (d.rankerModel !== 'none' && !MODEL_REF_PATTERN.test(d.rankerModel))
      e.rankerModel = '“none” or an uploaded model “name@version”.';
    const c = Number(d.coldStartThreshold);
    if (!Number.isInteger(c) || c < 1) e.coldStartThreshold = 'A whole number ≥ 1.';
  }
  if (!d.primary) e.primary = 'Pick the metric the decision is made on.';
  else if (!METRIC_RE.test(d.primary)) e.primary = 'a–z, 0–9, _ . -.';
  const badMetric = [...list(d.guardrails), ...list(d.secondary)].find((m) => !METRIC_RE.test(m));
  if (badMetric) e.guardrails = `“${badMetric}” is not a valid metric key.`;
  if (d.layer && !VARIANT_RE.test(d.layer)) e.layer = 'a–z, 0–9, _ or -.';
  const t = Number(d.traffic);
  if (!(t >= 0 && t <= 100) || d.traffic === '') e.traffic = 'Between 0 and 100.';
  d.rules.forEach((r, i) => {
    if (!r.attr.trim()) e[`rules[${i}]`] = 'Name the attribute.';
    else if (r.op !== 'exists' && !r.value.trim()) e[`rules[${i}]`] = 'Give a value.';
    else if (['gt', 'gte', 'lt', 'lte'].includes(r.op) && !Number.isFinite(Number(r.value)))
      e[`rules[${i}]`] = 'A number.';
  });
  return e;
}

const scalar = (s: string): string | number | boolean =>
  s === 'true' ? true : s === 'false' ? false : s.trim() !== '' && Number.isFinite(Number(s)) ? Number(s) : s.trim();

function ruleOf(r: RuleDraft): Record<string, unknown> {
  if (r.op === 'exists') return { op: 'exists', attr: r.attr.trim() };
  if (r.op === 'in' || r.op === 'nin')
    return {
      op: r.op,
      attr: r.attr.trim(),
      value: r.value
        .split(',')
        .map((v) => scalar(v.trim()))
        .filter((v) => v !== ''),
    };
  if (['gt', 'gte', 'lt', 'lte'].includes(r.op)) return { op: r.op, attr: r.attr.trim(), value: Number(r.value) };
  return { op: r.op, attr: r.attr.trim(), value: scalar(r.value) };
}

export function bodyOf(d: Draft): Record<string, unknown> {
  const body: Record<string, unknown> = {
    key: d.key,
    name: d.name.trim(),
    hypothesis: d.hypothesis,
    kind: d.kind,
    trafficPercent: Number(d.traffic),
    layer: d.layer || null,
    variants: d.variants.map((v) => {
      const out: Record<string, unknown> = { key: v.key, weight: Number(v.weight) };
      if (d.kind === 'ranking') {
        out.policy =
          v.policy === 'thompson'
            ? { type: 'thompson', model: v.model }
            : v.policy === 'epsilon-greedy'
              ? { type: 'epsilon-greedy', epsilon: Number(v.epsilon), model: v.model }
              : { type: v.policy };
      } else if (v.config.trim()) out.config = JSON.parse(v.config);
      return out;
    }),
    metrics: { primary: d.primary, guardrails: list(d.guardrails), secondary: list(d.secondary) },
  };
  if (d.kind === 'ranking') {
    body.slots = Number(d.slots);
    body.features = { context: list(d.contextFeatures), item: list(d.itemFeatures) };
    body.ranker = { model: d.rankerModel || 'none', shortlist: 50 };
    body.coldStartThreshold = Number(d.coldStartThreshold);
  }
  if (d.rules.length === 1) body.targeting = ruleOf(d.rules[0]);
  else if (d.rules.length > 1) body.targeting = { op: 'and', rules: d.rules.map(ruleOf) };
  return body;
}

const STEP_FIELDS: Record<(typeof STEPS)[number], (k: string) => boolean> = {
  Type: (k) => k === 'name' || k === 'key' || k === 'hypothesis',
  Variants: (k) =>
    k.startsWith('variants') || k === 'slots' || k === 'features' || k === 'rankerModel' || k === 'coldStartThreshold',
  Metrics: (k) => k === 'primary' || k === 'guardrails',
  Audience: (k) => k === 'layer' || k === 'traffic' || k.startsWith('rules'),
  Review: () => false,
};

export function NewExperiment() {
  const user = useUser();
  const [d, setD] = useState<Draft>(initial('ranking'));
  const [step, setStep] = useState(0);
  const [serverErrors, setServerErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [touched, setTouched] = useState<Set<number>>(new Set());
  const errors = useMemo(() => ({ ...validate(d), ...serverErrors }), [d, serverErrors]);
  const stepErrors = (i: number) => Object.keys(errors).filter(STEP_FIELDS[STEPS[i]]);

  const update = (patch: Partial<Draft>) => {
    setServerErrors({});
    setD((prev) => {
      const next = { ...prev, ...patch };
      if (patch.name !== undefined && !prev.keyTouched) next.key = slugify(patch.name);
      return next;
    });
  };
  const setVariant = (i: number, patch: Partial<VariantDraft>) =>
    update({ variants: d.variants.map((v, j) => (j === i ? { ...v, ...patch } : v)) });
  const totalWeight = d.variants.reduce((s, v) => s + (Number(v.weight) > 0 ? Number(v.weight) : 0), 0);

  const next = () => {
    setTouched(new Set(touched).add(step));
    if (stepErrors(step).length === 0) setStep(step + 1);
  };
  const create = async () => {
    setBusy(true);
    setError(null);
    try {
      const created = await api<Experiment>('POST', '/v1/experiments', bodyOf(d));
      navigate(`/experiments/${created.key}`);
    } catch (err) {
      if (err instanceof ApiError && err.errors.length) {
        const map = Object.fromEntries(
          err.errors.map((f) => [
            f.path
              .replace(/^metrics\./, '')
              .replace(/^targeting.*/, 'rules[0]')
              .replace(/^features\..*/, 'features'),
            f.message,
          ]),
        );
        setServerErrors(map);
        const first = STEPS.findIndex((s) => Object.keys(map).some(STEP_FIELDS[s]));
        if (first >= 0) setStep(first);
      }
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  if (!can.write(user.role)) {
    return (
      <div className="page">
        <h1>New experiment</h1>
        <div className="banner banner-amber">
          Your role ({user.role}) can read experiments but not create them. Ask an admin for the editor role.
        </div>
      </div>
    );
  }

  return (
    <div className="page narrow">
      <div className="page-head">
        <div>
          <Link to="/" className="muted small">
            ← Experiments
          </Link>
          <h1>New experiment</h1>
        </div>
      </div>
      <ol className="steps" aria-label="Steps">
        {STEPS.map((s, i) => (
          <li key={s} className={i === step ? 'current' : i < step ? 'done' : ''}>
            <button
              type="button"
              onClick={() => (i < step || stepErrors(step).length === 0 ? setStep(i) : undefined)}
              disabled={i > step && stepErrors(step).length > 0}
            >
              <span className="step-n">{i + 1}</span> <span className="step-label">{s}</span>
            </button>
          </li>
        ))}
      </ol>
      {error && (
        <div className="banner banner-red" role="alert">
          {error}
        </div>
      )}

      {STEPS[step] === 'Type' && (
        <Card title="What are you testing?">
          <div className="choice-grid" role="radiogroup" aria-label="Experiment type">
            {(['ranking', 'ab'] as const).map((k) => (
              <button
                type="button"
                role="radio"
                aria-checked={d.kind === k}
                key={k}
                className={`choice ${d.kind === k ? 'selected' : ''}`}
                data-testid={`kind-${k}`}
                onClick={() =>
                  d.kind !== k &&
                  setD({ ...initial(k), name: d.name, key: d.key, keyTouched: d.keyTouched, hypothesis: d.hypothesis })
                }
              >
                <strong>{k === 'ranking' ? 'Ranking experiment' : 'A/B test'}</strong>
                <span className="muted">
                  {k === 'ranking'
                    ? 'Variants are slot policies (ranker order, Thompson sampling, ε-greedy…) that fill ranked slots from a candidate set.'
                    : 'Variants carry a configuration payload your product reads from /v1/assign.'}
                </span>
              </button>
            ))}
          </div>
          <div className="form-grid">
            <Field label="Name" htmlFor="name" error={touched.has(0) ? errors.name : undefined}>
              <input
                id="name"
                value={d.name}
                onChange={(e) => update({ name: e.target.value })}
                placeholder="Home feed ranking"
              />
            </Field>
            <Field
              label="Key"
              htmlFor="key"
              error={d.key ? errors.key : touched.has(0) ? errors.key : undefined}
              hint="Used in API calls; cannot change later."
            >
              <input
                id="key"
                className="mono"
                value={d.key}
                onChange={(e) => update({ key: e.target.value, keyTouched: true })}
                placeholder="home-feed"
              />
            </Field>
          </div>
          <Field label="Hypothesis" htmlFor="hypothesis" hint="What you expect and why: it is shown with the results.">
            <textarea
              id="hypothesis"
              rows={3}
              value={d.hypothesis}
              onChange={(e) => update({ hypothesis: e.target.value })}
              placeholder="Thompson sampling finds better items than the ranker's order, raising clicks per view."
            />
          </Field>
        </Card>
      )}

      {STEPS[step] === 'Variants' && (
        <Card title={d.kind === 'ranking' ? 'Variants and their policies' : 'Variants'}>
          <div className="weight-bar" aria-label="Traffic split">
            {d.variants.map((v, i) => {
              const w = Number(v.weight) > 0 ? Number(v.weight) : 0;
              return (
                <span
                  key={i}
                  style={{ flexGrow: w || 0.0001 }}
                  className={`seg seg-${i % 8}`}
                  title={`${v.key}: ${totalWeight ? ((w / totalWeight) * 100).toFixed(1) : 0}%`}
                >
                  {totalWeight && w / totalWeight > 0.08 ? `${v.key} ${((w / totalWeight) * 100).toFixed(0)}%` : ''}
                </span>
              );
            })}
          </div>
          {errors.variants && <div className="field-error">{errors.variants}</div>}
          <div className="variant-list">
            {d.variants.map((v, i) => (
              <div className="variant-row" key={i} data-testid={`variant-${i}`}>
                <Field
                  label={i === 0 ? 'Key (first = control)' : 'Key'}
                  htmlFor={`v-key-${i}`}
                  error={errors[`variants[${i}].key`]}
                >
                  <input
                    id={`v-key-${i}`}
                    className="mono"
                    value={v.key}
                    onChange={(e) => setVariant(i, { key: e.target.value })}
                  />
                </Field>
                <Field
                  label="Weight"
                  htmlFor={`v-weight-${i}`}
                  error={errors[`variants[${i}].weight`]}
                  hint={
                    totalWeight > 0 && Number(v.weight) > 0
                      ? `${((Number(v.weight) / totalWeight) * 100).toFixed(1)}% of traffic`
                      : undefined
                  }
                >
                  <input
                    id={`v-weight-${i}`}
                    inputMode="decimal"
                    value={v.weight}
                    onChange={(e) => setVariant(i, { weight: e.target.value })}
                  />
                </Field>
                {d.kind === 'ranking' ? (
                  <>
                    <Field label="Policy" htmlFor={`v-policy-${i}`}>
                      <select
                        id={`v-policy-${i}`}
                        value={v.policy}
                        onChange={(e) => setVariant(i, { policy: e.target.value as VariantDraft['policy'] })}
                      >
                        <option value="ranker">ranker order (greedy)</option>
                        <option value="thompson">Thompson sampling</option>
                        <option value="epsilon-greedy">ε-greedy</option>
                        <option value="random">random</option>
                      </select>
                    </Field>
                    {(v.policy === 'thompson' || v.policy === 'epsilon-greedy') && (
                      <Field label="Model" htmlFor={`v-model-${i}`}>
                        <select
                          id={`v-model-${i}`}
                          value={v.model}
                          onChange={(e) => setVariant(i, { model: e.target.value as VariantDraft['model'] })}
                        >
                          <option value="hybrid">hybrid (cold start from features)</option>
                          <option value="linear">linear</option>
                          <option value="neural-linear">neural-linear (ranker embedding)</option>
                          <option value="beta">beta (per item, no features)</option>
                        </select>
                      </Field>
                    )}
                    {v.policy === 'epsilon-greedy' && (
                      <Field label="ε" htmlFor={`v-eps-${i}`} error={errors[`variants[${i}].policy.epsilon`]}>
                        <input
                          id={`v-eps-${i}`}
                          inputMode="decimal"
                          value={v.epsilon}
                          onChange={(e) => setVariant(i, { epsilon: e.target.value })}
                        />
                      </Field>
                    )}
                  </>
                ) : (
                  <Field label="Config (JSON)" htmlFor={`v-config-${i}`} error={errors[`variants[${i}].config`]}>
                    <input
                      id={`v-config-${i}`}
                      className="mono"
                      value={v.config}
                      onChange={(e) => setVariant(i, { config: e.target.value })}
                      placeholder='{"color": "green"}'
                    />
                  </Field>
                )}
                <div className="variant-remove">
                  {d.variants.length > (d.kind === 'ab' ? 2 : 1) && (
                    <Button
                      kind="ghost"
                      aria-label={`Remove ${v.key}`}
                      onClick={() => update({ variants: d.variants.filter((_, j) => j !== i) })}
                    >
                      Remove
                    </Button>
                  )}
                </div>
              </div>
            ))}
          </div>
          {d.variants.length < 20 && (
            <Button
              onClick={() =>
                update({
                  variants: [
                    ...d.variants,
                    variant(
                      `variant-${d.variants.length}`,
                      d.kind === 'ranking' ? 'thompson' : 'ranker',
                      d.kind === 'ab' ? '{}' : '',
                    ),
                  ],
                })
              }
            >
              Add variant
            </Button>
          )}
          {d.kind === 'ranking' && (
            <div className="form-grid top-gap">
              <Field label="Slots per request" htmlFor="slots" error={errors.slots}>
                <input
                  id="slots"
                  inputMode="numeric"
                  value={d.slots}
                  onChange={(e) => update({ slots: e.target.value })}
                />
              </Field>
              <Field
                label="Ranker model"
                htmlFor="ranker"
                error={errors.rankerModel}
                hint="“none” keeps the candidates' order; or an uploaded “name@version”."
              >
                <input
                  id="ranker"
                  className="mono"
                  value={d.rankerModel}
                  onChange={(e) => update({ rankerModel: e.target.value })}
                />
              </Field>
              <Field
                label="Context features"
                htmlFor="ctx"
                error={errors.features}
                hint="Comma-separated, e.g. age, hour"
              >
                <input
                  id="ctx"
                  className="mono"
                  value={d.contextFeatures}
                  onChange={(e) => update({ contextFeatures: e.target.value })}
                />
              </Field>
              <Field label="Item features" htmlFor="itemf" hint="Comma-separated, e.g. price, popularity">
                <input
                  id="itemf"
                  className="mono"
                  value={d.itemFeatures}
                  onChange={(e) => update({ itemFeatures: e.target.value })}
                />
              </Field>
              <Field
                label="Cold-start threshold"
                htmlFor="cold"
                error={errors.coldStartThreshold}
                hint="Rewarded impressions before an item stops counting as cold."
              >
                <input
                  id="cold"
                  inputMode="numeric"
                  value={d.coldStartThreshold}
                  onChange={(e) => update({ coldStartThreshold: e.target.value })}
                />
              </Field>
            </div>
          )}
        </Card>
      )}

      {STEPS[step] === 'Metrics' && (
        <Card title="How is success measured?">
          <Field
            label="Primary metric"
            htmlFor="primary"
            error={errors.primary}
            hint={
              d.kind === 'ranking'
                ? '“reward” is the sum of rewards your product sends for the slots.'
                : 'The event name your product sends to /v1/events, e.g. purchase.'
            }
          >
            <input
              id="primary"
              className="mono"
              value={d.primary}
              onChange={(e) => update({ primary: e.target.value })}
              placeholder={d.kind === 'ranking' ? 'reward' : 'purchase'}
            />
          </Field>
          <Field
            label="Guardrail metrics"
            htmlFor="guardrails"
            error={errors.guardrails}
            hint="Must not get worse (judged by non-inferiority). Comma-separated."
          >
            <input
              id="guardrails"
              className="mono"
              value={d.guardrails}
              onChange={(e) => update({ guardrails: e.target.value })}
              placeholder="latency_ms, unsubscribe"
            />
          </Field>
          <Field label="Secondary metrics" htmlFor="secondary" hint="Reported, not decided on. Comma-separated.">
            <input
              id="secondary"
              className="mono"
              value={d.secondary}
              onChange={(e) => update({ secondary: e.target.value })}
            />
          </Field>
        </Card>
      )}

      {STEPS[step] === 'Audience' && (
        <Card title="Who takes part?">
          <div className="form-grid">
            <Field
              label="Traffic"
              htmlFor="traffic"
              error={errors.traffic}
              hint={`${d.traffic || 0}% of eligible units enter the experiment.`}
            >
              <div className="range-row">
                <input
                  type="range"
                  min={0}
                  max={100}
                  step={1}
                  value={Number(d.traffic) || 0}
                  onChange={(e) => update({ traffic: e.target.value })}
                  aria-label="Traffic percent slider"
                />
                <input
                  id="traffic"
                  inputMode="decimal"
                  className="short"
                  value={d.traffic}
                  onChange={(e) => update({ traffic: e.target.value })}
                />
              </div>
            </Field>
            <Field
              label="Layer"
              htmlFor="layer"
              error={errors.layer}
              hint="Experiments in the same layer never share a unit. Leave empty for none."
            >
              <input
                id="layer"
                className="mono"
                value={d.layer}
                onChange={(e) => update({ layer: e.target.value })}
                placeholder="home"
              />
            </Field>
          </div>
          <h3 className="sub">Targeting</h3>
          <p className="muted small">Only units whose attributes match every rule take part. No rules: everyone.</p>
          {d.rules.map((r, i) => (
            <div className="rule-row" key={i}>
              <input
                aria-label="Attribute"
                className="mono"
                placeholder="country"
                value={r.attr}
                onChange={(e) =>
                  update({ rules: d.rules.map((x, j) => (j === i ? { ...x, attr: e.target.value } : x)) })
                }
              />
              <select
                aria-label="Operator"
                value={r.op}
                onChange={(e) =>
                  update({
                    rules: d.rules.map((x, j) => (j === i ? { ...x, op: e.target.value as RuleDraft['op'] } : x)),
                  })
                }
              >
                {OPS.map(([op, label]) => (
                  <option key={op} value={op}>
                    {label}
                  </option>
                ))}
              </select>
              {r.op !== 'exists' && (
                <input
                  aria-label="Value"
                  placeholder={r.op === 'in' || r.op === 'nin' ? 'FR, DE, IT' : 'FR'}
                  value={r.value}
                  onChange={(e) =>
                    update({ rules: d.rules.map((x, j) => (j === i ? { ...x, value: e.target.value } : x)) })
                  }
                />
              )}
              <Button kind="ghost" onClick={() => update({ rules: d.rules.filter((_, j) => j !== i) })}>
                Remove
              </Button>
              {errors[`rules[${i}]`] && <div className="field-error full">{errors[`rules[${i}]`]}</div>}
            </div>
          ))}
          <Button onClick={() => update({ rules: [...d.rules, { attr: '', op: 'eq', value: '' }] })}>Add rule</Button>
        </Card>
      )}

      {STEPS[step] === 'Review' && <Review d={d} />}

      <div className="wizard-actions">
        {step > 0 && <Button onClick={() => setStep(step - 1)}>Back</Button>}
        <span className="spacer" />
        {step < STEPS.length - 1 ? (
          <Button kind="primary" onClick={next} data-testid="wizard-next">
            Next: {STEPS[step + 1]}
          </Button>
        ) : (
          <Button
            kind="primary"
            onClick={() => void create()}
            disabled={busy || Object.keys(validate(d)).length > 0}
            data-testid="wizard-create"
          >
            {busy ? 'Creating…' : 'Create as draft'}
          </Button>
        )}
      </div>
      {touched.has(step) && stepErrors(step).length > 0 && (
        <p className="field-error right">Fix the highlighted fields to continue.</p>
      )}
    </div>
  );
}

function Review({ d }: { d: Draft }) {
  const total = d.variants.reduce((s, v) => s + Number(v.weight), 0);
  return (
    <>
      <Card title="Review">
        <dl className="facts">
          <dt>Name</dt>
          <dd>
            {d.name} <span className="muted mono">({d.key})</span>
          </dd>
          <dt>Type</dt>
          <dd>{d.kind === 'ranking' ? `Ranking, ${d.slots} slots` : 'A/B test'}</dd>
          <dt>Variants</dt>
          <dd>
            {d.variants.map((v) => (
              <div key={v.key}>
                <span className="mono">{v.key}</span> · {((Number(v.weight) / total) * 100).toFixed(1)}%
                {d.kind === 'ranking' &&
                  ` · ${v.policy}${v.policy === 'thompson' || v.policy === 'epsilon-greedy' ? ` (${v.model})` : ''}`}
              </div>
            ))}
          </dd>
          <dt>Primary metric</dt>
          <dd className="mono">{d.primary}</dd>
          {list(d.guardrails).length > 0 && (
            <>
              <dt>Guardrails</dt>
              <dd className="mono">{list(d.guardrails).join(', ')}</dd>
            </>
          )}
          <dt>Audience</dt>
          <dd>
            {d.traffic}% of units{d.layer ? `, layer ${d.layer}` : ''}
            {d.rules.length ? `, ${d.rules.length} targeting rule${d.rules.length > 1 ? 's' : ''}` : ', no targeting'}
          </dd>
        </dl>
        <p className="muted small">The experiment is created as a draft: nothing is served until you start it.</p>
      </Card>
      <SampleSize variants={d.variants.length} />
    </>
  );
}

type PowerResult = z.infer<typeof sampleSizeResultSchema>;

/** Sample size from POST /v1/stats/power, shown only when the server has that calculator. */
function SampleSize({ variants }: { variants: number }) {
  const [baseline, setBaseline] = useState('0.05');
  const [mde, setMde] = useState('5');
  const [result, setResult] = useState<PowerResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const p = Number(baseline);
    const m = Number(mde) / 100;
    if (!(p > 0 && p < 1) || !(m > 0)) {
      setResult(null);
      return;
    }
    const t = setTimeout(() => {
      api<PowerResult>('POST', '/v1/stats/power', {
        baseline: { proportion: p },
        mde: m,
        mdeType: 'relative',
        alpha: 0.05,
        power: 0.8,
      })
        .then((r) => (setResult(r), setError(null)))
        .catch((err) => (setResult(null), setError(errorMessage(err))));
    }, 300);
    return () => clearTimeout(t);
  }, [baseline, mde]);
  return (
    <Card title="Sample size estimate" testId="sample-size">
      <div className="form-grid">
        <Field label="Baseline conversion rate" htmlFor="p0" hint="e.g. 0.05 for 5%">
          <input id="p0" inputMode="decimal" value={baseline} onChange={(e) => setBaseline(e.target.value)} />
        </Field>
        <Field label="Smallest lift worth detecting (%)" htmlFor="mde">
          <input id="mde" inputMode="decimal" value={mde} onChange={(e) => setMde(e.target.value)} />
        </Field>
      </div>
      {error ? (
        <div className="field-error">{error}</div>
      ) : result?.nControlRounded ? (
        <p>
          About <strong>{int(result.nControlRounded)}</strong> units per variant,{' '}
          <strong>{int(result.nControlRounded * variants)}</strong> in total, for 80% power at α = 0.05.
        </p>
      ) : result?.reason ? (
        <p className="muted">{result.reason}</p>
      ) : null}
    </Card>
  );
}
