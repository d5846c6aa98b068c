import { isCondition, parseTargeting } from '@slotwise/assignment';
import { type auditListSchema, POLICY_DEFAULTS } from '@slotwise/contracts';
import type { z } from 'zod';
import { useState } from 'react';
import {
  Badge,
  Button,
  Card,
  ConfirmDialog,
  EmptyState,
  ErrorBox,
  Spinner,
  StatusBadge,
  Tabs,
  useAsync,
} from '../components/ui';
import { api, client, errorMessage } from '../lib/api';
import { can, useUser } from '../lib/auth';
import { age, dateTime } from '../lib/format';
import { Link } from '../lib/router';
import type { Experiment, Status } from '../lib/types';
import { BanditView } from './Bandit';
import { OfflineEvalView } from './OfflineEval';
import { PrintReport, ResultsView } from './Results';

type Action = 'start' | 'pause' | 'stop' | 'ship';

const ACTIONS: Record<
  Action,
  { label: string; from: Status[]; tone: 'primary' | 'danger'; explain: (e: Experiment) => string }
> = {
  start: {
    label: 'Start',
    from: ['draft', 'paused'],
    tone: 'primary',
    explain: (e) =>
      e.status === 'draft'
        ? `Units start being assigned to ${e.variants.map((v) => v.key).join(', ')} at ${e.trafficPercent}% traffic. Once started, the type, slots, features and the set of variants can no longer change.`
        : 'Assignment resumes; units keep the variant they had.',
  },
  pause: {
    label: 'Pause',
    from: ['running'],
    tone: 'primary',
    explain: () => 'New units are no longer assigned and products get the baseline. You can start it again later.',
  },
  stop: {
    label: 'Stop',
    from: ['running', 'paused'],
    tone: 'danger',
    explain: () =>
      'The experiment ends for good: products get the baseline, and the results are frozen. This cannot be undone.',
  },
  ship: {
    label: 'Ship a variant',
    from: ['running', 'paused', 'stopped'],
    tone: 'primary',
    explain: () => 'The chosen variant is served to everyone from now on; the experiment stops. Audited.',
  },
};

export function ExperimentPage({ experimentKey, tab }: { experimentKey: string; tab: string }) {
  const user = useUser();
  const exp = useAsync(() => client.experiment(experimentKey), [experimentKey]);
  const [pending, setPending] = useState<Action | null>(null);
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<string | null>(null);
  const [shipVariant, setShipVariant] = useState('');
  const [historyTick, setHistoryTick] = useState(0);

  if (tab === 'print')
    return exp.data ? <PrintReport experiment={exp.data} /> : exp.error ? <ErrorBox error={exp.error} /> : <Spinner />;
  if (exp.loading && !exp.data)
    return (
      <div className="page">
        <Spinner label="Loading experiment…" />
      </div>
    );
  if (exp.error || !exp.data) {
    return (
      <div className="page">
        <Link to="/" className="muted small">
          ← Experiments
        </Link>
        {exp.error?.startsWith('No experiment') ? (
          <EmptyState title="Experiment not found" action={<Link to="/">Back to experiments</Link>}>
            There is no experiment with key “{experimentKey}”.
          </EmptyState>
        ) : (
          <ErrorBox error={exp.error ?? 'unknown error'} onRetry={exp.reload} />
        )}
      </div>
    );
  }
  const e = exp.data;
  const writer = can.write(user.role);
  const run = async () => {
    if (!pending) return;
    setBusy(true);
    setActionError(null);
    try {
      if (pending === 'ship') await client.ship(e.key, shipVariant);
      else await client.transition(e.key, pending);
      setPending(null);
      exp.reload();
      setHistoryTick((t) => t + 1);
    } catch (err) {
      setActionError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  const base = `/experiments/${e.key}`;
  const available = (Object.keys(ACTIONS) as Action[]).filter(
    (a) => ACTIONS[a].from.includes(e.status) && (a !== 'ship' || !e.shippedVariant),
  );

  return (
    <div className="page">
      <div className="page-head">
        <div className="min0">
          <Link to="/" className="muted small">
            ← Experiments
          </Link>
          <h1 className="title-row">
            <span className="ellipsis">{e.name}</span> <StatusBadge status={e.status} />
          </h1>
          <div className="muted small">
            <span className="mono">{e.key}</span> · {e.kind === 'ab' ? 'A/B test' : `Ranking, ${e.slots} slots`} ·
            primary metric <span className="mono">{e.metrics.primary ?? 'none'}</span>
            {e.startedAt ? ` · started ${age(e.startedAt)} ago` : ` · created ${age(e.createdAt)} ago`}
            {e.shippedVariant && (
              <>
                {' '}
                · <Badge tone="green">shipped {e.shippedVariant}</Badge>
              </>
            )}
          </div>
        </div>
        {writer && (
          <div className="actions" data-testid="lifecycle-actions">
            {available.map((a) => (
              <Button
                key={a}
                kind={a === 'stop' ? 'danger' : a === 'start' || a === 'ship' ? 'primary' : 'secondary'}
                onClick={() => {
                  setActionError(null);
                  setShipVariant(e.variants[1]?.key ?? e.variants[0].key);
                  setPending(a);
                }}
                data-testid={`action-${a}`}
              >
                {ACTIONS[a].label}
              </Button>
            ))}
          </div>
        )}
      </div>
      <Tabs
        active={tab}
        tabs={[
          { id: 'overview', label: 'Overview', to: base },
          { id: 'results', label: 'Results', to: `${base}/results` },
          { id: 'bandit', label: 'Bandit', to: `${base}/bandit`, hidden: e.kind !== 'ranking' },
          { id: 'offline', label: 'Offline evaluation', to: `${base}/offline`, hidden: e.kind !== 'ranking' },
          { id: 'history', label: 'History', to: `${base}/history` },
        ]}
      />
      {tab === 'overview' && (
        <Overview
          e={e}
          writer={writer}
          onChanged={() => {
            exp.reload();
            setHistoryTick((t) => t + 1);
          }}
        />
      )}
      {tab === 'results' && <ResultsView experiment={e} />}
      {tab === 'bandit' && e.kind === 'ranking' && <BanditView experiment={e} />}
      {tab === 'offline' && e.kind === 'ranking' && <OfflineEvalView experiment={e} />}
      {tab === 'history' && <History experimentKey={e.key} tick={historyTick} />}
      {!['overview', 'results', 'bandit', 'offline', 'history'].includes(tab) && (
        <EmptyState title="Unknown section" action={<Link to={base}>Overview</Link>} />
      )}

      {pending && (
        <ConfirmDialog
          title={pending === 'ship' ? `Ship a variant of “${e.name}”?` : `${ACTIONS[pending].label} “${e.name}”?`}
          confirmLabel={pending === 'ship' ? `Ship ${shipVariant}` : `${ACTIONS[pending].label} experiment`}
          tone={ACTIONS[pending].tone}
          onConfirm={() => void run()}
          onCancel={() => setPending(null)}
          busy={busy}
          error={actionError}
        >
          <p>{ACTIONS[pending].explain(e)}</p>
          {pending === 'ship' && (
            <label className="field">
              Variant to serve to everyone
              <select value={shipVariant} onChange={(ev) => setShipVariant(ev.target.value)}>
                {e.variants.map((v) => (
                  <option key={v.key} value={v.key}>
                    {v.key}
                  </option>
                ))}
              </select>
            </label>
          )}
        </ConfirmDialog>
      )}
    </div>
  );
}

function policyText(v: Experiment['variants'][number]): string {
  const p = v.policy;
  if (!p) return v.config ? JSON.stringify(v.config) : '—';
  // Stored definitions have their defaults filled in; the spec defaults (libs/bandit, via contracts) cover older ones.
  const d = POLICY_DEFAULTS['epsilon-greedy'];
  if (p.type === 'thompson') return `Thompson sampling (${String(p.model ?? POLICY_DEFAULTS.thompson.model)})`;
  if (p.type === 'epsilon-greedy')
    return `ε-greedy, ε = ${String(p.epsilon ?? d.epsilon)} (${String(p.model ?? d.model)})`;
  return p.type === 'ranker' ? 'ranker order (greedy)' : 'random';
}

/**
 * A targeting rule in words (`unit.views_1h ≥ 5 and …`); also the Triggers page's condition column. A GrowthBook-style
 * condition is worded through its translation into the rule tree (libs/assignment).
 */
export function ruleText(rule: unknown): string {
  if (!rule || typeof rule !== 'object') return 'everyone';
  if (isCondition(rule)) {
    const parsed = parseTargeting(rule);
    return parsed.ok ? ruleText(parsed.rule) : JSON.stringify(rule);
  }
  const r = rule as { op: string; attr?: string; value?: unknown; rules?: unknown[]; rule?: unknown; pattern?: string };
  const ops: Record<string, string> = {
    eq: '=',
    neq: '≠',
    gt: '>',
    gte: '≥',
    lt: '<',
    lte: '≤',
    in: 'in',
    nin: 'not in',
  };
  if (r.op === 'and' || r.op === 'or') return (r.rules ?? []).map(ruleText).join(` ${r.op} `);
  if (r.op === 'not') return `not (${ruleText(r.rule)})`;
  if (r.op === 'exists') return `${r.attr} is set`;
  if (r.op === 'regex') return `${r.attr} matches /${r.pattern}/`;
  return `${r.attr} ${ops[r.op] ?? r.op} ${Array.isArray(r.value) ? r.value.join(', ') : String(r.value)}`;
}

function Overview({ e, writer, onChanged }: { e: Experiment; writer: boolean; onChanged: () => void }) {
  const total = e.variants.reduce((s, v) => s + v.weight, 0);
  return (
    <div className="grid-2-1">
      <div className="stack">
        {e.hypothesis && (
          <Card title="Hypothesis">
            <p className="hypothesis">{e.hypothesis}</p>
          </Card>
        )}
        <Card title="Variants">
          <div className="table-wrap">
            <table className="table" data-testid="variants-table">
              <thead>
                <tr>
                  <th>Variant</th>
                  <th className="num">Traffic share</th>
                  <th>{e.kind === 'ranking' ? 'Policy' : 'Config'}</th>
                </tr>
              </thead>
              <tbody>
                {e.variants.map((v, i) => (
                  <tr key={v.key}>
                    <td className="mono">
                      {v.key} {i === 0 && <Badge>control</Badge>}
                    </td>
                    <td className="num">{((v.weight / total) * 100).toFixed(1)}%</td>
                    <td className={e.kind === 'ab' ? 'mono small' : ''}>{policyText(v)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </Card>
      </div>
      <div className="stack">
        <Card title="Setup">
          <dl className="facts">
            <dt>Status</dt>
            <dd>
              <StatusBadge status={e.status} />
            </dd>
            <dt>Metrics</dt>
            <dd>
              <div>
                primary <span className="mono">{e.metrics.primary ?? '—'}</span>
              </div>
              {e.metrics.guardrails.length > 0 && (
                <div>
                  guardrails <span className="mono">{e.metrics.guardrails.join(', ')}</span>
                </div>
              )}
              {e.metrics.secondary.length > 0 && (
                <div>
                  secondary <span className="mono">{e.metrics.secondary.join(', ')}</span>
                </div>
              )}
            </dd>
            <dt>Traffic</dt>
            <dd>{e.trafficPercent}%</dd>
            <dt>Layer</dt>
            <dd>{e.layer ?? 'none'}</dd>
            <dt>Targeting</dt>
            <dd className="mono small">{ruleText(e.targeting)}</dd>
            <dt>Assignment</dt>
            <dd>{e.assignment === 'hash' ? 'Slotwise (hashing)' : 'external (exposures sent by you)'}</dd>
            {e.kind === 'ranking' && (
              <>
                <dt>Features</dt>
                <dd className="small">
                  context: <span className="mono">{e.features.context.join(', ') || '—'}</span>
                  <br />
                  item: <span className="mono">{e.features.item.join(', ') || '—'}</span>
                </dd>
                <dt>Ranker</dt>
                <dd className="mono">{e.ranker.model}</dd>
                <dt>Cold start</dt>
                <dd>until {e.coldStartThreshold} rewarded impressions</dd>
              </>
            )}
            <dt>Created</dt>
            <dd>{dateTime(e.createdAt)}</dd>
            {e.startedAt && (
              <>
                <dt>Started</dt>
                <dd>{dateTime(e.startedAt)}</dd>
              </>
            )}
            {e.stoppedAt && (
              <>
                <dt>Stopped</dt>
                <dd>{dateTime(e.stoppedAt)}</dd>
              </>
            )}
          </dl>
        </Card>
        <AutoStopCard e={e} writer={writer} onChanged={onChanged} />
      </div>
    </div>
  );
}

/**
 * The `autoStop` option: on/off, pause or stop, on a guardrail breach and/or SRM (PATCH /v1/experiments/{key},
 * audited), and the evidence of the last automatic stop (its `experiment.auto_stop` audit entry).
 */
function AutoStopCard({ e, writer, onChanged }: { e: Experiment; writer: boolean; onChanged: () => void }) {
  const user = useUser();
  const current = e.autoStop ?? null;
  const [enabled, setEnabled] = useState(current !== null);
  const [action, setAction] = useState<'pause' | 'stop'>(current?.action ?? 'pause');
  const [onGuardrail, setOnGuardrail] = useState(current ? current.on.includes('guardrail') : true);
  const [onSrm, setOnSrm] = useState(current ? current.on.includes('srm') : false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const last = useAsync(
    () =>
      can.audit(user.role)
        ? api<AuditList>('GET', `/v1/audit?entityType=experiment&entityId=${encodeURIComponent(e.key)}&limit=200`).then(
            (r) => r.entries.find((en) => en.action === 'experiment.auto_stop') ?? null,
          )
        : Promise.resolve(null),
    [e.key, e.version, e.status],
  );
  const editable = writer && e.status !== 'stopped';
  const on = [...(onGuardrail ? ['guardrail' as const] : []), ...(onSrm ? ['srm' as const] : [])];
  const save = async () => {
    setBusy(true);
    setError(null);
    setSaved(false);
    try {
      await client.patchExperiment(e.key, { autoStop: enabled ? { action, on } : null });
      setSaved(true);
      onChanged();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Card title="Automatic stop" testId="auto-stop">
      <p className="muted small">
        While the experiment runs, a scheduled always-valid evaluation{' '}
        {current ? <strong>{current.action === 'stop' ? 'stops' : 'pauses'}</strong> : 'can pause or stop'} it as soon
        as a guardrail&apos;s interval lies entirely beyond its non-inferiority margin
        {current?.on.includes('srm') ? ' or a sample ratio mismatch is flagged' : ''}. Audited and announced by webhook.
      </p>
      <div className="muted small" data-testid="auto-stop-state">
        Now: {current ? `on — ${current.action} on ${current.on.join(' and ')}` : 'off'}
      </div>
      {editable && (
        <div className="form">
          <label className="check-list">
            <span>
              <input
                type="checkbox"
                checked={enabled}
                onChange={(ev) => setEnabled(ev.target.checked)}
                data-testid="auto-stop-enabled"
              />{' '}
              Stop automatically
            </span>
          </label>
          {enabled && (
            <>
              <label className="field">
                Action
                <select
                  value={action}
                  onChange={(ev) => setAction(ev.target.value as 'pause' | 'stop')}
                  data-testid="auto-stop-action"
                >
                  <option value="pause">pause (can be started again)</option>
                  <option value="stop">stop (for good)</option>
                </select>
              </label>
              <div className="check-list">
                <label>
                  <input type="checkbox" checked={onGuardrail} onChange={(ev) => setOnGuardrail(ev.target.checked)} />{' '}
                  on a guardrail breach
                </label>
                <label>
                  <input
                    type="checkbox"
                    checked={onSrm}
                    onChange={(ev) => setOnSrm(ev.target.checked)}
                    data-testid="auto-stop-srm"
                  />{' '}
                  on a sample ratio mismatch
                </label>
              </div>
            </>
          )}
          {error && <ErrorBox error={error} />}
          <div className="actions">
            <Button
              kind="primary"
              onClick={() => void save()}
              disabled={busy || (enabled && !on.length)}
              data-testid="save-auto-stop"
            >
              Save
            </Button>
            {saved && <span className="muted small">Saved.</span>}
          </div>
        </div>
      )}
      {last.data && <AutoStopEvidence after={last.data.after} />}
    </Card>
  );
}

type AuditList = z.infer<typeof auditListSchema>;

function changes(before: unknown, after: unknown): string[] {
  if (!before || !after || typeof before !== 'object' || typeof after !== 'object') return [];
  const b = before as Record<string, unknown>;
  const a = after as Record<string, unknown>;
  return [...new Set([...Object.keys(a), ...Object.keys(b)])]
    .filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]))
    .map((k) => `${k}: ${short(b[k])} → ${short(a[k])}`);
}
const short = (v: unknown) => {
  const s = v === undefined ? '—' : JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}…` : s;
};

interface AutoStopAfter {
  status?: string;
  reason?: string;
  evidence?: {
    evaluatedAt?: string;
    srm?: { flagged: boolean; pValue: number | null };
    guardrailBreaches?: Array<{
      variant: string;
      metric: string;
      estimate: number | null;
      ci: { lower: number; upper: number };
      nonInferiorityMargin: number;
      direction: string;
    }>;
  };
}

/** The automatic stop's evidence: why, and each guardrail's always-valid interval against its margin. */
function AutoStopEvidence({ after }: { after: unknown }) {
  const a = (after ?? {}) as AutoStopAfter;
  const breaches = a.evidence?.guardrailBreaches ?? [];
  const n = (x: number | null | undefined) =>
    x === null || x === undefined ? '—' : Number(x.toPrecision(4)).toString();
  return (
    <div className="banner banner-red" data-testid="auto-stop-evidence">
      <div>
        <strong>Automatically {a.status ?? 'stopped'}.</strong> {a.reason}
        {breaches.length > 0 && (
          <ul className="changes small mono">
            {breaches.map((b) => (
              <li key={`${b.variant}/${b.metric}`}>
                {b.variant} · {b.metric} ({b.direction}): difference {n(b.estimate)}, always-valid interval [
                {n(b.ci.lower)}, {n(b.ci.upper)}], margin {n(b.nonInferiorityMargin)}
              </li>
            ))}
          </ul>
        )}
        {a.evidence?.srm?.flagged && <div className="small">Sample ratio mismatch, p = {n(a.evidence.srm.pValue)}</div>}
      </div>
    </div>
  );
}

function History({ experimentKey, tick }: { experimentKey: string; tick: number }) {
  const user = useUser();
  const audit = useAsync(
    () =>
      can.audit(user.role)
        ? api<AuditList>(
            'GET',
            `/v1/audit?entityType=experiment&entityId=${encodeURIComponent(experimentKey)}&limit=200`,
          )
        : Promise.resolve(null),
    [experimentKey, tick],
  );
  if (!can.audit(user.role))
    return (
      <EmptyState title="History is visible to editors and admins">
        Ask an admin if you need to see who changed this experiment.
      </EmptyState>
    );
  if (audit.loading && !audit.data) return <Spinner />;
  if (audit.error) return <ErrorBox error={audit.error} onRetry={audit.reload} />;
  const entries = audit.data?.entries ?? [];
  if (!entries.length) return <EmptyState title="No history yet" />;
  return (
    <Card title="History" testId="history">
      <ol className="timeline">
        {entries.map((en) => (
          <li key={en.id}>
            <div className="timeline-head">
              <strong>{en.action.replace(/^experiment\./, '')}</strong>{' '}
              <span className="muted">by {en.actor.name}</span>
              <span className="muted small right-auto" title={dateTime(en.at)}>
                {age(en.at)} ago
              </span>
            </div>
            {en.action === 'experiment.auto_stop' ? (
              <AutoStopEvidence after={en.after} />
            ) : (
              changes(en.before, en.after).length > 0 && (
                <ul className="changes small mono">
                  {changes(en.before, en.after).map((c) => (
                    <li key={c}>{c}</li>
                  ))}
                </ul>
              )
            )}
          </li>
        ))}
      </ol>
    </Card>
  );
}
