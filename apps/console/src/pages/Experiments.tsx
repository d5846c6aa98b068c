import { useEffect, useState } from 'react';
import { Badge, Button, EmptyState, ErrorBox, Spinner, StatusBadge, useAsync } from '../components/ui';
import { client } from '../lib/api';
import { can, useUser } from '../lib/auth';
import { age, dateTime } from '../lib/format';
import { Link, navigate, useLocation } from '../lib/router';
import { Experiment, multipleExposures, Report, totalUnits } from '../lib/types';

type Health = { tone: string; label: string; title: string };

/** The health badge: SRM and multiple exposures from the report; drafts are not started; report failed → unknown. */
export function healthOf(e: Experiment, report: Report | null | undefined): Health {
  if (e.status === 'draft')
    return { tone: 'neutral', label: 'Not started', title: 'Start the experiment to collect data.' };
  if (report === undefined) return { tone: 'neutral', label: '…', title: 'Checking' };
  if (report === null) return { tone: 'neutral', label: 'No report', title: 'The report could not be loaded.' };
  if (report.srm.flagged)
    return {
      tone: 'red',
      label: 'SRM',
      title: `Sample-ratio mismatch (p = ${report.srm.pValue?.toExponential(1) ?? '—'}): the split does not match the weights.`,
    };
  const me = multipleExposures(report);
  if (me) return { tone: 'amber', label: 'Multiple exposures', title: `${me.units} units saw more than one variant.` };
  if (totalUnits(report) === 0) return { tone: 'amber', label: 'No traffic', title: 'No unit has been exposed yet.' };
  return { tone: 'green', label: 'Healthy', title: 'Sample ratio as expected; no multiple exposures.' };
}

export function ExperimentsList() {
  const user = useUser();
  const { query } = useLocation();
  const [q, setQ] = useState(query.get('q') ?? '');
  const [status, setStatus] = useState(query.get('status') ?? '');
  const [kind, setKind] = useState(query.get('kind') ?? '');
  const [debounced, setDebounced] = useState(q);
  useEffect(() => {
    const t = setTimeout(() => setDebounced(q), 250);
    return () => clearTimeout(t);
  }, [q]);
  useEffect(() => {
    const params = new URLSearchParams();
    if (debounced) params.set('q', debounced);
    if (status) params.set('status', status);
    if (kind) params.set('kind', kind);
    const search = params.toString();
    if (search !== location.search.slice(1)) navigate(`/${search ? `?${search}` : ''}`, true);
  }, [debounced, status, kind]);

  const list = useAsync(
    () =>
      client.listExperiments({
        limit: 200,
        q: debounced || undefined,
        status: status || undefined,
        kind: kind || undefined,
      }),
    [debounced, status, kind],
  );

  const [reports, setReports] = useState<Record<string, Report | null>>({});
  useEffect(() => {
    if (!list.data) return;
    let live = true;
    const started = list.data.experiments.filter((e) => e.status !== 'draft' && !(e.key in reports)).slice(0, 25);
    void Promise.all(
      started.map(async (e) => {
        const r = await client.report(e.key).catch(() => null);
        if (live) setReports((prev) => ({ ...prev, [e.key]: r }));
      }),
    );
    return () => {
      live = false;
    };
    // reports is read only to skip what is loaded
  }, [list.data]);

  const filtered = Boolean(debounced || status || kind);
  const rows = list.data?.experiments ?? [];
  return (
    <div className="page">
      <div className="page-head">
        <div>
          <h1>Experiments</h1>
          <p className="muted">A/B tests and ranking experiments, their health and results.</p>
        </div>
        {can.write(user.role) && (
          <Button kind="primary" onClick={() => navigate('/experiments/new')} data-testid="new-experiment">
            New experiment
          </Button>
        )}
      </div>
      <div className="filters" role="search">
        <input
          type="search"
          placeholder="Search by name or key"
          aria-label="Search experiments"
          value={q}
          onChange={(e) => setQ(e.target.value)}
        />
        <select aria-label="Status" value={status} onChange={(e) => setStatus(e.target.value)}>
          <option value="">All statuses</option>
          <option value="draft">Draft</option>
          <option value="running">Running</option>
          <option value="paused">Paused</option>
          <option value="stopped">Stopped</option>
        </select>
        <select aria-label="Type" value={kind} onChange={(e) => setKind(e.target.value)}>
          <option value="">All types</option>
          <option value="ab">A/B test</option>
          <option value="ranking">Ranking</option>
        </select>
      </div>
      {list.loading && !list.data ? (
        <Spinner label="Loading experiments…" />
      ) : list.error ? (
        <ErrorBox error={list.error} onRetry={list.reload} />
      ) : rows.length === 0 ? (
        filtered ? (
          <EmptyState
            title="No experiment matches these filters"
            action={<Button onClick={() => (setQ(''), setStatus(''), setKind(''))}>Clear filters</Button>}
          />
        ) : (
          <EmptyState
            title="No experiments yet"
            testId="experiments-empty"
            action={
              can.write(user.role) ? (
                <Button kind="primary" onClick={() => navigate('/experiments/new')}>
                  Create your first experiment
                </Button>
              ) : undefined
            }
          >
            {can.write(user.role)
              ? 'An experiment compares variants (ranking policies or configurations) on a primary metric. Create one, start it, and results appear here as traffic arrives.'
              : 'Nothing to see yet. An editor or admin creates experiments; you will see their results here.'}
          </EmptyState>
        )
      ) : (
        <div className="card flush">
          <div className="table-wrap">
            <table className="table table-hover" data-testid="experiments-table">
              <thead>
                <tr>
                  <th>Experiment</th>
                  <th>Status</th>
                  <th className="hide-sm">Type</th>
                  <th className="hide-sm">Primary metric</th>
                  <th className="hide-sm">Age</th>
                  <th>Health</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((e) => {
                  const h = healthOf(e, reports[e.key]);
                  return (
                    <tr key={e.key} onClick={() => navigate(`/experiments/${e.key}`)} data-key={e.key}>
                      <td>
                        <Link to={`/experiments/${e.key}`} className="strong" onClick={(ev) => ev.stopPropagation()}>
                          {e.name}
                        </Link>
                        <div className="muted small mono">{e.key}</div>
                      </td>
                      <td>
                        <StatusBadge status={e.status} />
                      </td>
                      <td className="hide-sm">{e.kind === 'ab' ? 'A/B test' : `Ranking · ${e.slots ?? '?'} slots`}</td>
                      <td className="hide-sm">{e.metrics.primary ?? <span className="muted">none</span>}</td>
                      <td className="hide-sm muted" title={`Created ${dateTime(e.createdAt)}`}>
                        {age(e.startedAt ?? e.createdAt)}
                      </td>
                      <td>
                        <Badge tone={h.tone} title={h.title}>
                          {h.label}
                        </Badge>
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          {list.data && list.data.total > rows.length && (
            <div className="table-foot muted">
              Showing {rows.length} of {list.data.total}. Narrow the search to find others.
            </div>
          )}
        </div>
      )}
    </div>
  );
}
