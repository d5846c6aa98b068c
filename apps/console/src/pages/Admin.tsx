import type { apiKeyViewSchema } from '@slotwise/contracts';
import type { z } from 'zod';
import { FormEvent, useState } from 'react';
import { Badge, Button, Card, ConfirmDialog, EmptyState, ErrorBox, Field, Spinner, useAsync } from '../components/ui';
import { api, ApiError, errorMessage } from '../lib/api';
import { runConfirmed } from '../lib/run-confirmed';
import { useUser } from '../lib/auth';
import { age, dateTime } from '../lib/format';
import type { Role, User } from '../lib/types';

export function AdminUsers() {
  const me = useUser();
  const users = useAsync(() => api<{ users: User[] }>('GET', '/v1/console/users'), []);
  const [form, setForm] = useState({ email: '', name: '', role: 'editor' as Role, password: '' });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [confirm, setConfirm] = useState<{ user: User; action: 'disable' | 'enable' | 'delete' } | null>(null);
  const [busy, setBusy] = useState(false);

  const create = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setErrors({});
    try {
      const u = await api<User>('POST', '/v1/console/users', form);
      setNotice(`${u.email} can now sign in as ${u.role}. Share the password with them privately.`);
      setForm({ email: '', name: '', role: 'editor', password: '' });
      users.reload();
    } catch (err) {
      if (err instanceof ApiError) setErrors(Object.fromEntries(err.errors.map((f) => [f.path, f.message])));
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  const changeRole = async (u: User, role: Role) => {
    try {
      await api('PATCH', `/v1/console/users/${u.id}`, { role });
      users.reload();
    } catch (err) {
      setError(errorMessage(err));
    }
  };
  const act = async () => {
    if (!confirm) return;
    const { user, action } = confirm;
    await runConfirmed(
      () =>
        action === 'delete'
          ? api('DELETE', `/v1/console/users/${user.id}`)
          : api('PATCH', `/v1/console/users/${user.id}`, { disabled: action === 'disable' }),
      { close: () => setConfirm(null), reload: users.reload, setBusy, setError },
    );
  };

  return (
    <div className="page">
      <div className="page-head">
        <div>
          <h1>Console users</h1>
          <p className="muted">
            Admins manage users and API keys; editors create and run experiments; viewers read results.
          </p>
        </div>
      </div>
      {error && <ErrorBox error={error} />}
      {notice && <div className="banner banner-green">{notice}</div>}
      <div className="grid-2-1">
        <Card title="Users">
          {users.loading && !users.data ? (
            <Spinner />
          ) : users.error ? (
            <ErrorBox error={users.error} onRetry={users.reload} />
          ) : (
            <div className="table-wrap">
              <table className="table">
                <thead>
                  <tr>
                    <th>User</th>
                    <th>Role</th>
                    <th className="hide-sm">Last sign-in</th>
                    <th />
                  </tr>
                </thead>
                <tbody>
                  {users.data!.users.map((u) => (
                    <tr key={u.id} className={u.disabled ? 'row-muted' : ''}>
                      <td>
                        <div className="strong">{u.name || u.email}</div>
                        <div className="muted small">
                          {u.email} {u.disabled && <Badge tone="amber">disabled</Badge>}
                        </div>
                      </td>
                      <td>
                        <select
                          aria-label={`Role of ${u.email}`}
                          value={u.role}
                          onChange={(e) => void changeRole(u, e.target.value as Role)}
                          disabled={u.id === me.id}
                        >
                          <option value="admin">admin</option>
                          <option value="editor">editor</option>
                          <option value="viewer">viewer</option>
                        </select>
                      </td>
                      <td className="hide-sm muted">{u.lastSignInAt ? `${age(u.lastSignInAt)} ago` : 'never'}</td>
                      <td className="right nowrap">
                        {u.id !== me.id && (
                          <>
                            <Button
                              kind="ghost"
                              onClick={() => setConfirm({ user: u, action: u.disabled ? 'enable' : 'disable' })}
                            >
                              {u.disabled ? 'Enable' : 'Disable'}
                            </Button>
                            <Button kind="ghost" onClick={() => setConfirm({ user: u, action: 'delete' })}>
                              Delete
                            </Button>
                          </>
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </Card>
        <Card title="Add a user">
          <form className="form" onSubmit={create}>
            <Field label="E-mail" htmlFor="u-email" error={errors.email}>
              <input
                id="u-email"
                type="email"
                value={form.email}
                onChange={(e) => setForm({ ...form, email: e.target.value })}
                required
              />
            </Field>
            <Field label="Name" htmlFor="u-name" error={errors.name}>
              <input id="u-name" value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} />
            </Field>
            <Field label="Role" htmlFor="u-role">
              <select
                id="u-role"
                value={form.role}
                onChange={(e) => setForm({ ...form, role: e.target.value as Role })}
              >
                <option value="viewer">viewer: reads experiments and results</option>
                <option value="editor">editor: creates and runs experiments</option>
                <option value="admin">admin: also users and API keys</option>
              </select>
            </Field>
            <Field label="Initial password" htmlFor="u-password" error={errors.password} hint="At least 10 characters.">
              <input
                id="u-password"
                type="password"
                autoComplete="new-password"
                value={form.password}
                onChange={(e) => setForm({ ...form, password: e.target.value })}
                required
              />
            </Field>
            <Button kind="primary" type="submit" disabled={busy || !form.email || form.password.length < 10}>
              Add user
            </Button>
          </form>
        </Card>
      </div>
      {confirm && (
        <ConfirmDialog
          title={`${confirm.action === 'delete' ? 'Delete' : confirm.action === 'disable' ? 'Disable' : 'Enable'} ${confirm.user.email}?`}
          confirmLabel={
            confirm.action === 'delete' ? 'Delete user' : confirm.action === 'disable' ? 'Disable user' : 'Enable user'
          }
          tone={confirm.action === 'enable' ? 'primary' : 'danger'}
          onConfirm={() => void act()}
          onCancel={() => setConfirm(null)}
          busy={busy}
        >
          {confirm.action === 'enable'
            ? 'They will be able to sign in again.'
            : 'They are signed out at once. Their past changes stay in the audit history.'}
        </ConfirmDialog>
      )}
    </div>
  );
}

type ApiKey = z.infer<typeof apiKeyViewSchema>;

export function AdminKeys() {
  const keys = useAsync(() => api<{ keys: ApiKey[] }>('GET', '/v1/api-keys'), []);
  const [form, setForm] = useState({ name: '', role: 'serving' });
  const [created, setCreated] = useState<(ApiKey & { key: string }) | null>(null);
  const [revoke, setRevoke] = useState<ApiKey | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [copied, setCopied] = useState(false);

  const create = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      setCreated(await api<ApiKey & { key: string }>('POST', '/v1/api-keys', form));
      setCopied(false);
      setForm({ name: '', role: 'serving' });
      keys.reload();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  const doRevoke = async () => {
    if (!revoke) return;
    const { id } = revoke;
    await runConfirmed(() => api('DELETE', `/v1/api-keys/${id}`), {
      close: () => setRevoke(null),
      reload: keys.reload,
      setBusy,
      setError,
    });
  };

  return (
    <div className="page">
      <div className="page-head">
        <div>
          <h1>API keys</h1>
          <p className="muted">
            Product back-ends call the API with a key: use the serving role for rank, rewards and events.
          </p>
        </div>
      </div>
      {error && <ErrorBox error={error} />}
      {created && (
        <div className="banner banner-green key-once" data-testid="new-key">
          <div>
            <strong>Copy the key for “{created.name}” now: it is shown only once.</strong>
            <code className="secret">{created.key}</code>
          </div>
          <div className="row">
            <Button
              onClick={() => {
                void navigator.clipboard?.writeText(created.key).then(() => setCopied(true));
              }}
            >
              {copied ? 'Copied' : 'Copy'}
            </Button>
            <Button kind="ghost" onClick={() => setCreated(null)}>
              Done
            </Button>
          </div>
        </div>
      )}
      <div className="grid-2-1">
        <Card title="Active keys">
          {keys.loading && !keys.data ? (
            <Spinner />
          ) : keys.error ? (
            <ErrorBox error={keys.error} onRetry={keys.reload} />
          ) : keys.data!.keys.length === 0 ? (
            <EmptyState title="No active keys" />
          ) : (
            <div className="table-wrap">
              <table className="table">
                <thead>
                  <tr>
                    <th>Name</th>
                    <th>Role</th>
                    <th className="hide-sm">Key starts</th>
                    <th className="hide-sm">Created</th>
                    <th />
                  </tr>
                </thead>
                <tbody>
                  {keys.data!.keys.map((k) => (
                    <tr key={k.id}>
                      <td className="strong">{k.name}</td>
                      <td>
                        <Badge>{k.role}</Badge>
                      </td>
                      <td className="hide-sm">
                        <code>{k.prefix}…</code>
                      </td>
                      <td className="hide-sm muted" title={dateTime(k.createdAt)}>
                        {age(k.createdAt)} ago
                      </td>
                      <td className="right">
                        <Button kind="ghost" onClick={() => setRevoke(k)}>
                          Revoke
                        </Button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </Card>
        <Card title="Create a key">
          <form className="form" onSubmit={create}>
            <Field label="Name" htmlFor="k-name" hint="Who uses it, e.g. “home feed service”.">
              <input
                id="k-name"
                value={form.name}
                onChange={(e) => setForm({ ...form, name: e.target.value })}
                required
              />
            </Field>
            <Field label="Role" htmlFor="k-role">
              <select id="k-role" value={form.role} onChange={(e) => setForm({ ...form, role: e.target.value })}>
                <option value="serving">serving: rank, rewards, events, items</option>
                <option value="viewer">viewer: read experiments and reports</option>
                <option value="editor">editor: manage experiments and items</option>
                <option value="admin">admin: everything</option>
              </select>
            </Field>
            <Button kind="primary" type="submit" disabled={busy || !form.name.trim()}>
              Create key
            </Button>
          </form>
        </Card>
      </div>
      {revoke && (
        <ConfirmDialog
          title={`Revoke “${revoke.name}”?`}
          confirmLabel="Revoke key"
          tone="danger"
          onConfirm={() => void doRevoke()}
          onCancel={() => setRevoke(null)}
          busy={busy}
        >
          Calls made with this key fail from now on (other replicas within a few seconds). This cannot be undone.
        </ConfirmDialog>
      )}
    </div>
  );
}
