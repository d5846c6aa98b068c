import { FormEvent, useState } from 'react';
import { Button, Field } from '../components/ui';
import { api, ApiError, errorMessage, setCsrfToken } from '../lib/api';
import { useAuth } from '../lib/auth';
import type { Session } from '../lib/types';

function AuthFrame({ title, intro, children }: { title: string; intro: React.ReactNode; children: React.ReactNode }) {
  return (
    <div className="auth-page">
      <div className="auth-card">
        <div className="brand auth-brand">
          <img src="/favicon.svg" alt="" width={32} height={32} /> Slotwise
        </div>
        <h1>{title}</h1>
        <p className="muted">{intro}</p>
        {children}
      </div>
      <p className="auth-foot muted">Experiments, ranked slots and their statistics.</p>
    </div>
  );
}

export function SignInPage() {
  const { refresh } = useAuth();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const s = await api<Session>('POST', '/v1/console/sign-in', { email, password });
      setCsrfToken(s.csrfToken);
      await refresh();
    } catch (err) {
      setError(err instanceof ApiError && err.status === 400 ? 'Enter your e-mail and password.' : errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <AuthFrame title="Sign in" intro="Use the e-mail and password your Slotwise admin gave you.">
      <form onSubmit={submit} className="form" noValidate>
        <Field label="E-mail" htmlFor="email">
          <input
            id="email"
            name="email"
            type="email"
            autoComplete="username"
            value={email}
            onChange={(e) => setEmail(e.target.value)}
            required
            autoFocus
          />
        </Field>
        <Field label="Password" htmlFor="password">
          <input
            id="password"
            name="password"
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            required
          />
        </Field>
        {error && (
          <div className="banner banner-red" role="alert">
            {error}
          </div>
        )}
        <Button kind="primary" type="submit" disabled={busy || !email || !password}>
          {busy ? 'Signing in…' : 'Sign in'}
        </Button>
      </form>
    </AuthFrame>
  );
}

export function SetupPage() {
  const { refresh } = useAuth();
  const [form, setForm] = useState({ email: '', name: '', password: '', confirm: '', apiKey: '' });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const set = (k: keyof typeof form) => (e: React.ChangeEvent<HTMLInputElement>) =>
    setForm({ ...form, [k]: e.target.value });
  const local: Record<string, string> = {};
  if (form.password && form.password.length < 10) local.password = 'At least 10 characters.';
  if (form.confirm && form.confirm !== form.password) local.confirm = 'The passwords do not match.';
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (Object.keys(local).length) return;
    setBusy(true);
    setError(null);
    setErrors({});
    try {
      const s = await api<Session>('POST', '/v1/console/setup', {
        email: form.email,
        name: form.name,
        password: form.password,
        apiKey: form.apiKey,
      });
      setCsrfToken(s.csrfToken);
      await refresh();
    } catch (err) {
      if (err instanceof ApiError && err.errors.length)
        setErrors(Object.fromEntries(err.errors.map((f) => [f.path, f.message])));
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <AuthFrame
      title="Set up the console"
      intro={
        <>
          No console user exists yet. Create the first admin. To prove you run this server, paste the admin API key that
          Slotwise printed at its first start (or the value of <code>SLOTWISE_ADMIN_KEY</code>). You can also skip this
          page by starting Slotwise with <code>SLOTWISE_ADMIN_EMAIL</code> and <code>SLOTWISE_ADMIN_PASSWORD</code>.
        </>
      }
    >
      <form onSubmit={submit} className="form" noValidate>
        <Field label="Admin API key" htmlFor="apiKey" error={errors.apiKey}>
          <input
            id="apiKey"
            type="password"
            autoComplete="off"
            value={form.apiKey}
            onChange={set('apiKey')}
            placeholder="sw_…"
            required
          />
        </Field>
        <Field label="Your name" htmlFor="name" error={errors.name}>
          <input id="name" value={form.name} onChange={set('name')} autoComplete="name" />
        </Field>
        <Field label="E-mail" htmlFor="email" error={errors.email}>
          <input id="email" type="email" value={form.email} onChange={set('email')} autoComplete="username" required />
        </Field>
        <Field
          label="Password"
          htmlFor="password"
          error={local.password ?? errors.password}
          hint="At least 10 characters."
        >
          <input
            id="password"
            type="password"
            value={form.password}
            onChange={set('password')}
            autoComplete="new-password"
            required
          />
        </Field>
        <Field label="Repeat the password" htmlFor="confirm" error={local.confirm}>
          <input
            id="confirm"
            type="password"
            value={form.confirm}
            onChange={set('confirm')}
            autoComplete="new-password"
            required
          />
        </Field>
        {error && (
          <div className="banner banner-red" role="alert">
            {error}
          </div>
        )}
        <Button
          kind="primary"
          type="submit"
          disabled={busy || !form.email || !form.password || !form.apiKey || form.confirm !== form.password}
        >
          {busy ? 'Creating…' : 'Create admin and sign in'}
        </Button>
      </form>
    </AuthFrame>
  );
}
