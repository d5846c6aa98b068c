import { useState } from 'react';
import {
  Badge,
  Button,
  Card,
  ConfirmDialog,
  EmptyState,
  ErrorBox,
  Field,
  Spinner,
  Stat,
  useAsync,
} from '../components/ui';
import { api, client, errorMessage } from '../lib/api';
import { runConfirmed } from '../lib/run-confirmed';
import { dateTime, int, num } from '../lib/format';
import type { Experiment, OffPolicy, OpeResult, OpeRun, ShadowValue } from '../lib/types';

type Estimate = OpeResult['estimates'][number];

const ci = (c: { lower: number | null; upper: number | null } | undefined) =>
  c ? `${num(c.lower, 4)} – ${num(c.upper, 4)}` : '—';
/** The run's stored request (POST …/ope's body as validated: libs/contracts `opeRequestSchema`). */
const requestOf = (run: OpeRun) => (run.request ?? {}) as { policy?: unknown; logs?: { variant?: string } };
const describePolicy = (p: unknown): string => {
  const o = (p ?? {}) as Record<string, unknown>;
  if (typeof o.variant === 'string') return `variant ${o.variant}`;
  if (typeof o.ranker === 'string') return `ranker ${o.ranker}`;
  return String(o.type ?? '?');
};

/**
 * "Offline evaluation" tab of a ranking experiment: the report's off-policy cross-check (each variant's policy on
 * the other variants' logs next to its own A/B value), the stored OPE runs with their estimator table, and a form
 * to run OPE for a policy (POST /v1/experiments/{key}/ope).
 */
export function OfflineEvalView({ experiment: e }: { experiment: Experiment }) {
  const report = useAsync(() => client.report(e.key), [e.key]);
  const runs = useAsync(() => client.opeRuns(e.key), [e.key]);
  const latest = runs.data?.runs.find((r) => r.status === 'succeeded') ?? null;
  return (
    <div className="stack" data-testid="offline-eval">
      <Card title="Cross-check: each policy on the other variants' logs" testId="offpolicy-crosscheck">
        {report.loading && !report.data ? (
          <Spinner label="Computing the report…" />
        ) : report.error ? (
          <ErrorBox error={report.error} onRetry={report.reload} />
        ) : (
          <CrossCheck off={report.data?.offPolicy ?? null} />
        )}
      </Card>
      <Shadows experiment={e} />
      <RunForm experiment={e} onDone={runs.reload} />
      <Card title="Latest OPE result" testId="ope-latest">
        {latest?.result ? (
          <ResultTable run={latest} />
        ) : (
          <EmptyState title="No OPE run yet">Run OPE for a policy with the form above.</EmptyState>
        )}
      </Card>
      {runs.data && runs.data.runs.length > 0 && (
        <Card title="Runs">
          <div className="table-wrap">
            <table className="table" data-testid="ope-runs">
              <thead>
                <tr>
                  <th>When</th>
                  <th>Policy</th>
                  <th>Logs</th>
                  <th>Status</th>
                </tr>
              </thead>
              <tbody>
                {runs.data.runs.map((r) => (
                  <tr key={r.id}>
                    <td>{dateTime(r.createdAt)}</td>
                    <td className="mono">{describePolicy(requestOf(r).policy)}</td>
                    <td className="mono">{requestOf(r).logs?.variant ?? 'all variants'}</td>
                    <td>
                      {r.status === 'running' ? (
                        `running ${Math.round(r.progress * 100)}%`
                      ) : r.status === 'failed' ? (
                        <Badge tone="red" title={r.error?.detail}>
                          failed
                        </Badge>
                      ) : (
                        <Badge tone="green">done</Badge>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </Card>
      )}
    </div>
  );
}

function CrossCheck({ off }: { off: OffPolicy | null }) {
  if (!off)
    return (
      <EmptyState title="Not available">The report has an off-policy section for ranking experiments only.</EmptyState>
    );
  if ('error' in off) return <ErrorBox error={off.error} />;
  if (!off.pairs.length)
    return (
      <EmptyState title="Nothing to compare yet">
        {off.warnings.join(' ') || 'It needs logged decisions of at least two variants.'}
      </EmptyState>
    );
  return (
    <>
      <div className="table-wrap">
        <table className="table">
          <thead>
            <tr>
              <th>Policy</th>
              <th>Evaluated on logs of</th>
              <th className="num">Off-policy estimate</th>
              <th className="num">Interval</th>
              <th className="num">ESS</th>
              <th className="num">Own A/B value</th>
              <th className="num">Interval</th>
              <th>Agrees</th>
            </tr>
          </thead>
          <tbody>
            {off.pairs.map((p) => (
              <tr key={`${p.target}|${p.logs}`} title={p.statement}>
                <td className="mono">{p.target}</td>
                <td className="mono">{p.logs}</td>
                <td className="num">
                  {num(p.value, 4)} <span className="muted">{p.estimator.toUpperCase()}</span>
                </td>
                <td className="num">{ci(p.ci)}</td>
                <td className="num">{int(p.effectiveSampleSize)}</td>
                <td className="num">{p.onPolicy ? num(p.onPolicy.value, 4) : '—'}</td>
                <td className="num">{ci(p.onPolicy?.ci)}</td>
                <td>
                  {p.covers === null ? (
                    '—'
                  ) : p.covers ? (
                    <Badge tone="green">yes</Badge>
                  ) : (
                    <Badge tone="amber">no</Badge>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <ul className="muted">
        {off.pairs.map((p) => (
          <li key={`${p.target}|${p.logs}`}>{p.statement}</li>
        ))}
      </ul>
      {off.posterior && <p className="muted">Posterior: {off.posterior}.</p>}
    </>
  );
}

/**
 * Shadow variants (no traffic; they decide beside every served decision): their value estimated on the served logs,
 * overall and per day, and "Promote to served" (one audited PATCH of the definition: the variant then gets its
 * weight's share of traffic in a new phase).
 */
function Shadows({ experiment: e }: { experiment: Experiment }) {
  const shadows = useAsync(
    () => api<{ shadows: ShadowValue[] }>('GET', `/v1/experiments/${encodeURIComponent(e.key)}/ope/shadows`),
    [e.key],
  );
  const [confirm, setConfirm] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [promoted, setPromoted] = useState<string | null>(null);
  const promote = async (key: string) => {
    setError(null);
    await runConfirmed(
      async () => {
        // the definition as stored now (the page's copy may be older): only this variant's flag changes
        const current = await client.experiment(e.key);
        const variants = current.variants.map((v) => (v.key === key ? { ...v, shadow: false } : v));
        await client.patchExperiment(e.key, { variants });
        setPromoted(key);
      },
      { close: () => setConfirm(null), reload: shadows.reload, setBusy, setError },
    );
  };
  const list = shadows.data?.shadows ?? [];
  if (!shadows.loading && !shadows.error && list.length === 0 && !promoted) return null;
  return (
    <Card title="Shadow variants (no traffic): value on the served logs" testId="shadow-variants">
      {promoted && (
        <p data-testid="shadow-promoted">
          <span className="mono">{promoted}</span> is served now: it takes its weight's share of traffic from the new
          phase on (see History).
        </p>
      )}
      {error && <ErrorBox error={error} />}
      {shadows.loading && !shadows.data ? (
        <Spinner label="Evaluating shadows…" />
      ) : shadows.error ? (
        <ErrorBox error={shadows.error} onRetry={shadows.reload} />
      ) : null}
      {list.map((s) => (
        <div key={s.variant} className="stack" data-testid={`shadow-${s.variant}`}>
          <h3>
            <span className="mono">{s.variant}</span> <span className="muted">({describePolicy(s.policy)})</span>{' '}
            <Button kind="primary" onClick={() => setConfirm(s.variant)} data-testid={`promote-${s.variant}`}>
              Promote to served
            </Button>
          </h3>
          <div className="stats">
            <Stat label="Decided beside" value={`${int(s.shadowDecisions)} of ${int(s.servedDecisions)}`} />
            {s.estimate && <Stat label="Effective sample size" value={int(s.estimate.effectiveSampleSize)} />}
            {s.estimate && <Stat label="Served policies' value" value={num(s.estimate.loggedValue, 4)} />}
          </div>
          {s.estimate && <EstimateTable estimates={s.estimate.estimates} testId="shadow-estimates" />}
          {s.series.length > 0 && (
            <div className="table-wrap">
              <table className="table" data-testid="shadow-series">
                <thead>
                  <tr>
                    <th>Day (UTC)</th>
                    <th className="num">Rounds</th>
                    <th className="num">IPS that day</th>
                    <th className="num">IPS to date</th>
                    <th className="num">Interval</th>
                    <th className="num">DR to date</th>
                    <th className="num">Interval</th>
                  </tr>
                </thead>
                <tbody>
                  {s.series.map((p) => (
                    <tr key={p.day}>
                      <td className="mono">{p.day}</td>
                      <td className="num">{int(p.n)}</td>
                      <td className="num">{p.daily.ips ? num(p.daily.ips.value, 4) : '—'}</td>
                      <td className="num">{p.cumulative.ips ? num(p.cumulative.ips.value, 4) : '—'}</td>
                      <td className="num">{ci(p.cumulative.ips?.ci)}</td>
                      <td className="num">{p.cumulative.dr ? num(p.cumulative.dr.value, 4) : '—'}</td>
                      <td className="num">{ci(p.cumulative.dr?.ci)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          {s.warnings.map((w) => (
            <p key={w} className="muted">
              ⚠ {w}
            </p>
          ))}
        </div>
      ))}
      {confirm && (
        <ConfirmDialog
          title={`Serve ${confirm}?`}
          confirmLabel="Promote to served"
          busy={busy}
          onConfirm={() => void promote(confirm)}
          onCancel={() => setConfirm(null)}
        >
          <span className="mono">{confirm}</span> stops being a shadow and gets its weight&apos;s share of traffic: the
          allocation is ramped and a new phase starts. This is recorded in the audit history and cannot be undone while
          the experiment runs.
        </ConfirmDialog>
      )}
    </Card>
  );
}

/** One row per estimator: value, (1 − α) interval, standard error. */
function EstimateTable({ estimates, testId }: { estimates: Estimate[]; testId: string }) {
  return (
    <div className="table-wrap">
      <table className="table" data-testid={testId}>
        <thead>
          <tr>
            <th>Estimator</th>
            <th className="num">Value</th>
            <th className="num">{Math.round((estimates[0]?.ci.level ?? 0.95) * 100)}% interval</th>
            <th className="num">Std. error</th>
          </tr>
        </thead>
        <tbody>
          {estimates.map((x) => (
            <tr key={x.estimator}>
              <td className="mono">{x.estimator}</td>
              <td className="num">{num(x.value, 5)}</td>
              <td className="num">{ci(x.ci)}</td>
              <td className="num">{num(x.stdErr, 5)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function ResultTable({ run }: { run: OpeRun }) {
  const r = run.result!;
  return (
    <>
      <p>
        Policy <span className="mono">{describePolicy(requestOf(run).policy)}</span> on the logs of{' '}
        <span className="mono">{requestOf(run).logs?.variant ?? 'all variants'}</span>. Posterior: {r.posterior}.
      </p>
      <div className="stats">
        <Stat label="Logged slots (n)" value={int(r.n)} />
        <Stat label="Effective sample size" value={int(r.effectiveSampleSize)} testId="ope-ess" />
        <Stat label="Largest weight" value={num(r.maxWeight, 3)} />
        <Stat label="Logging policy's value" value={num(r.loggedValue, 4)} />
      </div>
      <EstimateTable estimates={r.estimates} testId="ope-estimates" />
      {r.warnings.map((w) => (
        <p key={w} className="muted" data-testid="ope-warning">
          ⚠ {w}
        </p>
      ))}
    </>
  );
}

function RunForm({ experiment: e, onDone }: { experiment: Experiment; onDone: () => void }) {
  const [target, setTarget] = useState(e.variants[0]?.key ? `variant:${e.variants[0].key}` : 'type:random');
  const [logs, setLogs] = useState('');
  const [alpha, setAlpha] = useState('0.05');
  const [clip, setClip] = useState('');
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const submit = async () => {
    setError(null);
    setBusy('Starting…');
    const [kind, value] = target.split(':');
    const body: Record<string, unknown> = {
      policy: kind === 'variant' ? { variant: value } : { type: value },
      alpha: Number(alpha),
    };
    if (logs) body.logs = { variant: logs };
    if (clip) body.clip = Number(clip);
    try {
      let run = await client.startOpe(e.key, body as Parameters<typeof client.startOpe>[1]);
      while (run.status === 'running') {
        setBusy(`Running… ${Math.round(run.progress * 100)}%`);
        await new Promise((r) => setTimeout(r, 1000));
        run = await client.opeRun(e.key, run.id);
      }
      if (run.status === 'failed') setError(run.error?.detail ?? 'the run failed');
      onDone();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(null);
    }
  };
  return (
    <Card title="Run OPE for this policy" testId="ope-form">
      <div className="grid-2">
        <Field label="Target policy" htmlFor="ope-target">
          <select id="ope-target" value={target} onChange={(x) => setTarget(x.target.value)}>
            {e.variants.map((v) => (
              <option key={v.key} value={`variant:${v.key}`}>
                variant {v.key} (current posterior)
              </option>
            ))}
            <option value="type:random">uniform random</option>
            <option value="type:ranker">ranker order</option>
          </select>
        </Field>
        <Field label="Logs of" htmlFor="ope-logs">
          <select id="ope-logs" value={logs} onChange={(x) => setLogs(x.target.value)}>
            <option value="">all variants</option>
            {/* shadow variants have no logs of their own */}
            {e.variants
              .filter((v) => !v.shadow)
              .map((v) => (
                <option key={v.key} value={v.key}>
                  {v.key}
                </option>
              ))}
          </select>
        </Field>
        <Field label="Alpha" htmlFor="ope-alpha">
          <input id="ope-alpha" value={alpha} onChange={(x) => setAlpha(x.target.value)} />
        </Field>
        <Field label="Clip weights at (optional)" htmlFor="ope-clip">
          <input id="ope-clip" value={clip} onChange={(x) => setClip(x.target.value)} />
        </Field>
      </div>
      {error && <ErrorBox error={error} />}
      <Button kind="primary" onClick={() => void submit()} disabled={busy !== null} data-testid="ope-run">
        {busy ?? 'Run OPE'}
      </Button>
    </Card>
  );
}
