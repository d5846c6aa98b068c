import type { triggerFiringListSchema, triggerViewSchema } from '@slotwise/contracts';
import type { z } from 'zod';
import { FormEvent, useState } from 'react';
import { Badge, Button, Card, ConfirmDialog, EmptyState, ErrorBox, Field, Spinner, useAsync } from '../components/ui';
import { api, ApiError, errorMessage } from '../lib/api';
import { age, dateTime } from '../lib/format';
import { runConfirmed } from '../lib/run-confirmed';
import { ruleText } from './Experiment';

type Trigger = z.infer<typeof triggerViewSchema>;

type Firing = z.infer<typeof triggerFiringListSchema>['firings'][number];

const EXAMPLE =
  '{ "op": "and", "rules": [\n  { "op": "gte", "attr": "unit.views_1h", "value": 5 },\n  { "op": "gte", "attr": "unit.compares_1h", "value": 2 }\n] }';
const blank = { name: '', description: '', condition: EXAMPLE, cooldownSeconds: '3600', enabled: true };

/** Admin: behavioural triggers over unit features — list, create, edit, delete, recent firings (each a `trigger.fired` webhook). */
export function AdminTriggers() {
  const list = useAsync(() => api<{ triggers: Trigger[] }>('GET', '/v1/triggers'), []);
  const [editing, setEditing] = useState<Trigger | null>(null);
  const [form, setForm] = useState(blank);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [confirm, setConfirm] = useState<Trigger | null>(null);
  const [busy, setBusy] = useState(false);

  const edit = (t: Trigger | null) => {
    setEditing(t);
    setErrors({});
    setError(null);
    setForm(
      t
        ? {
            name: t.name,
            description: t.description,
            condition: JSON.stringify(t.condition, null, 2),
            cooldownSeconds: String(t.cooldownSeconds),
            enabled: t.enabled,
          }
        : blank,
    );
  };

  const save = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    setErrors({});
    let condition: unknown;
    try {
      condition = JSON.parse(form.condition);
    } catch {
      setErrors({ condition: 'is not valid JSON' });
      return;
    }
    setBusy(true);
    try {
      const body = {
        description: form.description,
        condition,
        cooldownSeconds: Number(form.cooldownSeconds),
        enabled: form.enabled,
      };
      const t = editing
        ? await api<Trigger>('PATCH', `/v1/triggers/${editing.id}`, body)
        : await api<Trigger>('POST', '/v1/triggers', { name: form.name, ...body });
      edit(null);
      setSelected(t.id);
      list.reload();
    } catch (err) {
      if (err instanceof ApiError) {
        const byField: Record<string, string> = {};
        for (const f of err.errors) {
          const field = f.path.split(/[.[]/)[0];
          byField[field] = byField[field]
            ? `${byField[field]}; ${f.path}: ${f.message}`
            : field === 'condition'
              ? `${f.path}: ${f.message}`
              : f.message;
        }
        setErrors(byField);
      }
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  const remove = async () => {
    if (!confirm) return;
    const id = confirm.id;
    await runConfirmed(
      async () => {
        await api('DELETE', `/v1/triggers/${id}`);
        if (selected === id) setSelected(null);
        if (editing?.id === id) edit(null);
      },
      { close: () => setConfirm(null), reload: list.reload, setBusy, setError },
    );
  };

  return (
    <div className="page" data-testid="triggers-page">
      <div className="page-head">
        <div>
          <h1>Triggers</h1>
          <p className="muted">
            A condition over a unit&apos;s stored features (the targeting rule language), checked as events arrive. A
            unit that <em>enters</em> the condition fires once — not again while it stays inside — unless it fired less
            than the cooldown ago. Each firing is a <code>trigger.fired</code> webhook carrying the unit and the feature
            values that matched.
          </p>
        </div>
      </div>
      {error && <ErrorBox error={error} />}
      <div className="grid-2-1">
        <Card title="Triggers">
          {list.loading && !list.data ? (
            <Spinner />
          ) : list.error ? (
            <ErrorBox error={list.error} onRetry={list.reload} />
          ) : !list.data!.triggers.length ? (
            <EmptyState title="No triggers yet">
              Define unit features under /v1/features, then describe the moment to act on.
            </EmptyState>
          ) : (
            <div className="table-wrap">
              <table className="table" data-testid="triggers-table">
                <thead>
                  <tr>
                    <th>Trigger</th>
                    <th className="hide-sm">Cooldown</th>
                    <th />
                  </tr>
                </thead>
                <tbody>
                  {list.data!.triggers.map((t) => (
                    <tr key={t.id} className={t.enabled ? '' : 'row-muted'}>
                      <td>
                        <div className="strong">
                          {t.name} {!t.enabled && <Badge tone="amber">disabled</Badge>}
                        </div>
                        <div className="mono small">{ruleText(t.condition)}</div>
                        {t.description && <div className="muted small">{t.description}</div>}
                      </td>
                      <td className="hide-sm small">{t.cooldownSeconds ? `${t.cooldownSeconds} s` : 'none'}</td>
                      <td className="right nowrap">
                        <Button kind="ghost" onClick={() => setSelected(t.id)}>
                          Firings
                        </Button>
                        <Button kind="ghost" onClick={() => edit(t)} data-testid={`edit-trigger-${t.name}`}>
                          Edit
                        </Button>
                        <Button kind="ghost" onClick={() => setConfirm(t)}>
                          Delete
                        </Button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </Card>
        <Card title={editing ? `Edit “${editing.name}”` : 'New trigger'}>
          <form className="form" onSubmit={save} data-testid="trigger-form">
            <Field label="Name" htmlFor="tr-name" error={errors.name} hint="a–z, 0–9, _ . -; cannot change later">
              <input
                id="tr-name"
                value={form.name}
                disabled={!!editing}
                onChange={(e) => setForm({ ...form, name: e.target.value })}
                required
              />
            </Field>
            <Field label="Description" htmlFor="tr-desc" error={errors.description}>
              <input
                id="tr-desc"
                value={form.description}
                onChange={(e) => setForm({ ...form, description: e.target.value })}
              />
            </Field>
            <Field
              label="Condition (JSON rule over unit features)"
              htmlFor="tr-cond"
              error={errors.condition}
              hint="ops: and, or, not, eq, neq, in, nin, gt, gte, lt, lte, exists, regex"
            >
              <textarea
                id="tr-cond"
                rows={7}
                className="mono small"
                value={form.condition}
                onChange={(e) => setForm({ ...form, condition: e.target.value })}
              />
            </Field>
            <Field
              label="Cooldown per unit (seconds)"
              htmlFor="tr-cool"
              error={errors.cooldownSeconds}
              hint="an entry sooner than this after the unit's last firing does not fire"
            >
              <input
                id="tr-cool"
                type="number"
                step="any"
                value={form.cooldownSeconds}
                onChange={(e) => setForm({ ...form, cooldownSeconds: e.target.value })}
              />
            </Field>
            <label className="check-list">
              <span>
                <input
                  type="checkbox"
                  checked={form.enabled}
                  onChange={(e) => setForm({ ...form, enabled: e.target.checked })}
                />{' '}
                Enabled
              </span>
            </label>
            <div className="actions">
              <Button kind="primary" type="submit" disabled={busy} data-testid="save-trigger">
                {editing ? 'Save changes' : 'Create trigger'}
              </Button>
              {editing && (
                <Button kind="ghost" onClick={() => edit(null)}>
                  Cancel
                </Button>
              )}
            </div>
          </form>
        </Card>
      </div>
      {selected && <Firings triggerId={selected} key={selected} />}
      {confirm && (
        <ConfirmDialog
          title="Delete this trigger?"
          confirmLabel="Delete"
          tone="danger"
          busy={busy}
          onConfirm={() => void remove()}
          onCancel={() => setConfirm(null)}
        >
          “{confirm.name}” stops firing; its per-unit state and firing history are deleted (deliveries already sent stay
          in the webhooks&apos; history).
        </ConfirmDialog>
      )}
    </div>
  );
}

function Firings({ triggerId }: { triggerId: string }) {
  const list = useAsync(
    () => api<{ firings: Firing[] }>('GET', `/v1/triggers/${triggerId}/firings?limit=100`),
    [triggerId],
  );
  return (
    <Card
      title="Recent firings"
      testId="firings"
      actions={
        <Button kind="ghost" onClick={list.reload}>
          Refresh
        </Button>
      }
    >
      {list.loading && !list.data ? (
        <Spinner />
      ) : list.error ? (
        <ErrorBox error={list.error} onRetry={list.reload} />
      ) : !list.data!.firings.length ? (
        <EmptyState title="No firings yet">Units that enter the condition appear here.</EmptyState>
      ) : (
        <div className="table-wrap">
          <table className="table" data-testid="firings-table">
            <thead>
              <tr>
                <th>Unit</th>
                <th>When</th>
                <th>Feature values that matched</th>
              </tr>
            </thead>
            <tbody>
              {list.data!.firings.map((f) => (
                <tr key={f.id}>
                  <td className="mono">{f.unitId}</td>
                  <td className="small" title={dateTime(f.firedAt)}>
                    {age(f.firedAt)} ago
                  </td>
                  <td className="mono small">
                    {Object.entries(f.values)
                      .map(([k, v]) => `${k} = ${v}`)
                      .join(', ')}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
}
