import { useState } from 'react';
import { Badge, Button, Card, EmptyState, ErrorBox, Field, Spinner, Stat, useAsync } from '../components/ui';
import { api, apiOptional, errorMessage } from '../lib/api';
import { dateTime, int, num } from '../lib/format';
import type { Experiment } from '../lib/types';

interface Interval {
  lower: number;
  upper: number;
  level: number;
}
interface Estimate {
  estimator: string;
  value: number;
  ci: Interval;
  stdErr: number;
}
interface OpeResult {
  n: number;
  decisions: number;
  effectiveSampleSize: number;
  maxWeight: number;
  loggedValue: number;
  estimates: Estimate[];
  posterior: string;
  warnings: string[];
}
interface OpeRun {
  id: string;
  status: 'running' | 'succeeded' | 'failed';
  progress: number;
  request: { policy?: unknown; logs?: { variant?: string } };
  result: OpeResult | null;
  error: { detail: string; errors?: { path: string; message: string }[] } | null;
  createdAt: string;
}
interface CrossPair {
  target: string;
  logs: string;
  estimator: string;
  value: number;
  ci: Interval;
  effectiveSampleSize: number;
  onPolicy: { value: number; ci: Interval } | null;
  covers: boolean | null;
  statement: string;
}
interface OffPolicy {
  posterior?: string;
  pairs?: CrossPair[];
  warnings?: string[];
  error?: string;
}

const ci = (c: Interval | undefined) => (c ? `${num(c.lower, 4)} – ${num(c.upper, 4)}` : '—');
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
  const base = `/v1/experiments/${encodeURIComponent(e.key)}`;
  const report = useAsync(() => apiOptional<{ offPolicy?: OffPolicy }>(`${base}/report`), [e.key]);
  const runs = useAsync(() => apiOptional<{ runs: OpeRun[] }>(`${base}/ope`), [e.key]);
  const latest = runs.data?.runs.find((r) => r.status === 'succeeded') ?? null;
  return (
    <div className="stack" data-testid="offline-eval">
      <Card title="Cross-check: each policy on the other variants' logs" testId="offpolicy-crosscheck">
        {report.loading && !report.data ? <Spinner label="Computing the report…" /> : report.error ? <ErrorBox error={report.error} onRetry={report.reload} /> : <CrossCheck off={report.data?.offPolicy ?? null} />}
      </Card>
      <RunForm experiment={e} onDone={runs.reload} />
      <Card title="Latest OPE result" testId="ope-latest">
        {latest?.result ? <ResultTable run={latest} /> : <EmptyState title="No OPE run yet">Run OPE for a policy with the form above.</EmptyState>}
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
                    <td className="mono">{describePolicy(r.request.policy)}</td>
                    <td className="mono">{r.request.logs?.variant ?? 'all variants'}</td>
                    <td>{r.status === 'running' ? `running ${Math.round(r.progress * 100)}%` : r.status === 'failed' ? <Badge tone="red" title={r.error?.detail}>failed</Badge> : <Badge tone="green">done</Badge>}</td>
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
  if (!off) return <EmptyState title="Not available">The report has no off-policy section for this experiment yet.</EmptyState>;
  if (off.error) return <ErrorBox error={off.error} />;
  if (!off.pairs?.length) return <EmptyState title="Nothing to compare yet">{off.warnings?.join(' ') || 'It needs logged decisions of at least two variants.'}</EmptyState>;
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
                <td>{p.covers === null ? '—' : p.covers ? <Badge tone="green">yes</Badge> : <Badge tone="amber">no</Badge>}</td>
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

function ResultTable({ run }: { run: OpeRun }) {
  const r = run.result!;
  return (
    <>
      <p>
        Policy <span className="mono">{describePolicy(run.request.policy)}</span> on the logs of <span className="mono">{run.request.logs?.variant ?? 'all variants'}</span>. Posterior: {r.posterior}.
      </p>
      <div className="stats">
        <Stat label="Logged slots (n)" value={int(r.n)} />
        <Stat label="Effective sample size" value={int(r.effectiveSampleSize)} testId="ope-ess" />
        <Stat label="Largest weight" value={num(r.maxWeight, 3)} />
        <Stat label="Logging policy's value" value={num(r.loggedValue, 4)} />
      </div>
      <div className="table-wrap">
        <table className="table" data-testid="ope-estimates">
          <thead>
            <tr>
              <th>Estimator</th>
              <th className="num">Value</th>
              <th className="num">{Math.round((r.estimates[0]?.ci.level ?? 0.95) * 100)}% interval</th>
              <th className="num">Std. error</th>
            </tr>
          </thead>
          <tbody>
            {r.estimates.map((x) => (
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
    const body: Record<string, unknown> = { policy: kind === 'variant' ? { variant: value } : { type: value }, alpha: Number(alpha) };
    if (logs) body.logs = { variant: logs };
    if (clip) body.clip = Number(clip);
    try {
      let run = await api<OpeRun>('POST', `/v1/experiments/${encodeURIComponent(e.key)}/ope`, body);
      while (run.status === 'running') {
        setBusy(`Running… ${Math.round(run.progress * 100)}%`);
        await new Promise((r) => setTimeout(r, 1000));
        run = await api<OpeRun>('GET', `/v1/experiments/${encodeURIComponent(e.key)}/ope/${run.id}`);
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
            {e.variants.map((v) => (
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
