import type { webhookDeliverySchema, webhookViewSchema } from '@slotwise/contracts';
import type { z } from 'zod';
import { FormEvent, useState } from 'react';
import { Badge, Button, Card, ConfirmDialog, EmptyState, ErrorBox, Field, Spinner, useAsync } from '../components/ui';
import { api, ApiError, errorMessage } from '../lib/api';
import { age, dateTime } from '../lib/format';
import { runConfirmed } from '../lib/run-confirmed';

type Webhook = z.infer<typeof webhookViewSchema>;

type Delivery = z.infer<typeof webhookDeliverySchema>;

const STATUS_TONE: Record<Delivery['status'], string> = { pending: 'amber', delivered: 'green', failed: 'red' };

/** Admin: signed webhooks (Standard Webhooks) — list, create, delete; deliveries with send test and redeliver. */
export function AdminWebhooks() {
  const hooks = useAsync(() => api<{ webhooks: Webhook[]; eventTypes: string[] }>('GET', '/v1/webhooks'), []);
  const [form, setForm] = useState({ url: '', description: '', eventTypes: [] as string[] });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [secret, setSecret] = useState<string | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [confirm, setConfirm] = useState<Webhook | null>(null);
  const [busy, setBusy] = useState(false);

  const create = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setErrors({});
    try {
      const w = await api<Webhook & { secret: string }>('POST', '/v1/webhooks', form);
      setSecret(w.secret);
      setForm({ url: '', description: '', eventTypes: [] });
      setSelected(w.id);
      hooks.reload();
    } catch (err) {
      if (err instanceof ApiError)
        setErrors(Object.fromEntries(err.errors.map((f) => [f.path.replace(/\[\d+\]$/, ''), f.message])));
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
        await api('DELETE', `/v1/webhooks/${id}`);
        if (selected === id) setSelected(null);
      },
      { close: () => setConfirm(null), reload: hooks.reload, setBusy, setError },
    );
  };
  const toggle = (type: string) =>
    setForm((f) => ({
      ...f,
      eventTypes: f.eventTypes.includes(type) ? f.eventTypes.filter((t) => t !== type) : [...f.eventTypes, type],
    }));

  return (
    <div className="page" data-testid="webhooks-page">
      <div className="page-head">
        <div>
          <h1>Webhooks</h1>
          <p className="muted">
            Signed HTTP callbacks (Standard Webhooks: <code>webhook-id</code>, <code>webhook-timestamp</code>,{' '}
            <code>webhook-signature</code>). Failed deliveries are retried with backoff for 24 hours; the receiver drops
            duplicates by <code>webhook-id</code>.
          </p>
        </div>
      </div>
      {error && <ErrorBox error={error} />}
      {secret && (
        <div className="banner banner-green" data-testid="webhook-secret">
          Signing secret (shown once — store it with the receiver): <code>{secret}</code>
        </div>
      )}
      <div className="grid-2-1">
        <Card title="Endpoints">
          {hooks.loading && !hooks.data ? (
            <Spinner />
          ) : hooks.error ? (
            <ErrorBox error={hooks.error} onRetry={hooks.reload} />
          ) : !hooks.data!.webhooks.length ? (
            <EmptyState title="No webhooks yet">
              Add an endpoint to be told about lifecycle changes, guardrail breaches and automatic stops.
            </EmptyState>
          ) : (
            <div className="table-wrap">
              <table className="table" data-testid="webhooks-table">
                <thead>
                  <tr>
                    <th>Endpoint</th>
                    <th className="hide-sm">Events</th>
                    <th />
                  </tr>
                </thead>
                <tbody>
                  {hooks.data!.webhooks.map((w) => (
                    <tr key={w.id} className={w.enabled ? '' : 'row-muted'}>
                      <td>
                        <div className="strong">{w.url}</div>
                        <div className="muted small">
                          {w.description} {!w.enabled && <Badge tone="amber">disabled</Badge>}{' '}
                          <span title="secret">{w.secretHint}</span>
                        </div>
                      </td>
                      <td className="hide-sm small">{w.eventTypes.join(', ')}</td>
                      <td className="right nowrap">
                        <Button kind="ghost" onClick={() => setSelected(w.id)}>
                          Deliveries
                        </Button>
                        <Button kind="ghost" onClick={() => setConfirm(w)}>
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
        <Card title="Add an endpoint">
          <form className="form" onSubmit={create}>
            <Field
              label="URL"
              htmlFor="wh-url"
              error={errors.url}
              hint="https:// endpoint; private addresses are refused unless the server allows them"
            >
              <input
                id="wh-url"
                type="url"
                value={form.url}
                onChange={(e) => setForm({ ...form, url: e.target.value })}
                required
              />
            </Field>
            <Field label="Description" htmlFor="wh-desc" error={errors.description}>
              <input
                id="wh-desc"
                value={form.description}
                onChange={(e) => setForm({ ...form, description: e.target.value })}
              />
            </Field>
            <Field label="Events" error={errors.eventTypes}>
              <div className="check-list">
                {(hooks.data?.eventTypes ?? []).map((t) => (
                  <label key={t}>
                    <input type="checkbox" checked={form.eventTypes.includes(t)} onChange={() => toggle(t)} /> {t}
                  </label>
                ))}
              </div>
            </Field>
            <Button kind="primary" type="submit" disabled={busy} data-testid="create-webhook">
              Add endpoint
            </Button>
          </form>
        </Card>
      </div>
      {selected && <Deliveries webhookId={selected} key={selected} />}
      {confirm && (
        <ConfirmDialog
          title="Delete this webhook?"
          confirmLabel="Delete"
          tone="danger"
          busy={busy}
          onConfirm={() => void remove()}
          onCancel={() => setConfirm(null)}
        >
          {confirm.url} stops receiving events; its delivery history is deleted.
        </ConfirmDialog>
      )}
    </div>
  );
}

function Deliveries({ webhookId }: { webhookId: string }) {
  const list = useAsync(
    () => api<{ deliveries: Delivery[] }>('GET', `/v1/webhooks/${webhookId}/deliveries?limit=100`),
    [webhookId],
  );
  const [error, setError] = useState<string | null>(null);
  const act = async (call: () => Promise<unknown>) => {
    setError(null);
    try {
      await call();
      list.reload();
    } catch (err) {
      setError(errorMessage(err));
    }
  };
  return (
    <Card
      title="Deliveries"
      testId="deliveries"
      actions={
        <>
          <Button onClick={() => void act(() => api('POST', `/v1/webhooks/${webhookId}/test`))} data-testid="send-test">
            Send test
          </Button>
          <Button kind="ghost" onClick={list.reload}>
            Refresh
          </Button>
        </>
      }
    >
      {error && <ErrorBox error={error} />}
      {list.loading && !list.data ? (
        <Spinner />
      ) : list.error ? (
        <ErrorBox error={list.error} onRetry={list.reload} />
      ) : !list.data!.deliveries.length ? (
        <EmptyState title="No deliveries yet">
          Events this endpoint subscribes to appear here; "Send test" sends one now.
        </EmptyState>
      ) : (
        <div className="table-wrap">
          <table className="table" data-testid="deliveries-table">
            <thead>
              <tr>
                <th>Event</th>
                <th>Status</th>
                <th>Attempts</th>
                <th className="hide-sm">Last result</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {list.data!.deliveries.map((d) => (
                <tr key={d.id}>
                  <td>
                    <div className="strong">{d.eventType}</div>
                    <div className="muted small" title={dateTime(d.createdAt)}>
                      <code>{d.id}</code> · {age(d.createdAt)} ago
                    </div>
                  </td>
                  <td>
                    <Badge tone={STATUS_TONE[d.status]}>{d.status}</Badge>
                    {d.status === 'pending' && d.nextAttemptAt && (
                      <div className="muted small">next {dateTime(d.nextAttemptAt)}</div>
                    )}
                  </td>
                  <td>{d.attempts}</td>
                  <td className="hide-sm small">
                    {d.lastError ?? (d.lastStatusCode ? `answered ${d.lastStatusCode}` : '—')}
                  </td>
                  <td className="right">
                    <Button
                      kind="ghost"
                      onClick={() =>
                        void act(() => api('POST', `/v1/webhooks/${webhookId}/deliveries/${d.id}/redeliver`))
                      }
                    >
                      Redeliver
                    </Button>
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
