import { ReactNode, useEffect, useRef, useState } from 'react';
import { Link } from '../lib/router';

export function Button({
  children,
  kind = 'secondary',
  ...rest
}: React.ButtonHTMLAttributes<HTMLButtonElement> & { kind?: 'primary' | 'secondary' | 'danger' | 'ghost' }) {
  return (
    <button type="button" className={`btn btn-${kind}`} {...rest}>
      {children}
    </button>
  );
}

const STATUS_TONE: Record<string, string> = { draft: 'neutral', running: 'green', paused: 'amber', stopped: 'slate' };

export function StatusBadge({ status }: { status: string }) {
  return (
    <span className={`badge badge-${STATUS_TONE[status] ?? 'neutral'}`} data-testid="status-badge">
      {status === 'running' && <span className="dot" aria-hidden />}
      {status}
    </span>
  );
}

export function Badge({ tone = 'neutral', children, title }: { tone?: string; children: ReactNode; title?: string }) {
  return (
    <span className={`badge badge-${tone}`} title={title}>
      {children}
    </span>
  );
}

export function Spinner({ label = 'Loading…' }: { label?: string }) {
  return (
    <div className="loading" role="status">
      <span className="spinner" aria-hidden /> {label}
    </div>
  );
}

export function ErrorBox({ error, onRetry }: { error: string; onRetry?: () => void }) {
  return (
    <div className="banner banner-red" role="alert">
      <div>
        <strong>Something went wrong.</strong> {error}
      </div>
      {onRetry && (
        <Button kind="ghost" onClick={onRetry}>
          Try again
        </Button>
      )}
    </div>
  );
}

export function EmptyState({
  title,
  children,
  action,
  icon = '◎',
  testId,
}: {
  title: string;
  children?: ReactNode;
  action?: ReactNode;
  icon?: string;
  testId?: string;
}) {
  return (
    <div className="empty" data-testid={testId}>
      <div className="empty-icon" aria-hidden>
        {icon}
      </div>
      <h3>{title}</h3>
      {children && <div className="muted">{children}</div>}
      {action && <div className="empty-action">{action}</div>}
    </div>
  );
}

export function Banner({
  tone,
  title,
  children,
  testId,
}: {
  tone: 'red' | 'amber' | 'blue' | 'green';
  title: string;
  children?: ReactNode;
  testId?: string;
}) {
  return (
    <div className={`banner banner-${tone}`} role={tone === 'red' ? 'alert' : 'status'} data-testid={testId}>
      <div>
        <strong>{title}</strong> {children}
      </div>
    </div>
  );
}

export function Card({
  title,
  actions,
  children,
  className = '',
  testId,
}: {
  title?: ReactNode;
  actions?: ReactNode;
  children: ReactNode;
  className?: string;
  testId?: string;
}) {
  return (
    <section className={`card ${className}`} data-testid={testId}>
      {(title || actions) && (
        <header className="card-head">
          {title && <h2>{title}</h2>}
          {actions && <div className="card-actions">{actions}</div>}
        </header>
      )}
      {children}
    </section>
  );
}

export function Stat({
  label,
  value,
  hint,
  testId,
}: {
  label: string;
  value: ReactNode;
  hint?: ReactNode;
  testId?: string;
}) {
  return (
    <div className="stat" data-testid={testId}>
      <div className="stat-label">{label}</div>
      <div className="stat-value">{value}</div>
      {hint && <div className="stat-hint">{hint}</div>}
    </div>
  );
}

export function Field({
  label,
  hint,
  error,
  children,
  htmlFor,
}: {
  label: string;
  hint?: ReactNode;
  error?: string | null;
  children: ReactNode;
  htmlFor?: string;
}) {
  return (
    <div className={`field ${error ? 'has-error' : ''}`}>
      <label htmlFor={htmlFor}>{label}</label>
      {children}
      {error ? <div className="field-error">{error}</div> : hint ? <div className="field-hint">{hint}</div> : null}
    </div>
  );
}

export function Tabs({
  tabs,
  active,
}: {
  tabs: { to: string; label: string; id: string; hidden?: boolean }[];
  active: string;
}) {
  return (
    <nav className="tabs" aria-label="Sections">
      {tabs
        .filter((t) => !t.hidden)
        .map((t) => (
          <Link
            key={t.id}
            to={t.to}
            className={`tab ${t.id === active ? 'active' : ''}`}
            aria-current={t.id === active ? 'page' : undefined}
          >
            {t.label}
          </Link>
        ))}
    </nav>
  );
}

/** A modal confirmation: the action runs only after an explicit click; Escape or the backdrop cancel. */
export function ConfirmDialog({
  title,
  children,
  confirmLabel,
  tone = 'primary',
  onConfirm,
  onCancel,
  busy,
  error,
}: {
  title: string;
  children: ReactNode;
  confirmLabel: string;
  tone?: 'primary' | 'danger';
  onConfirm: () => void;
  onCancel: () => void;
  busy?: boolean;
  error?: string | null;
}) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const key = (e: KeyboardEvent) => e.key === 'Escape' && onCancel();
    window.addEventListener('keydown', key);
    ref.current?.querySelector<HTMLButtonElement>('.btn-' + tone)?.focus();
    return () => window.removeEventListener('keydown', key);
  }, [onCancel, tone]);
  return (
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && onCancel()}>
      <div className="modal" role="dialog" aria-modal="true" aria-labelledby="dialog-title" ref={ref}>
        <h2 id="dialog-title">{title}</h2>
        <div className="modal-body">{children}</div>
        {error && <div className="field-error">{error}</div>}
        <div className="modal-actions">
          <Button onClick={onCancel} disabled={busy}>
            Cancel
          </Button>
          <Button kind={tone} onClick={onConfirm} disabled={busy} data-testid="confirm">
            {busy ? 'Working…' : confirmLabel}
          </Button>
        </div>
      </div>
    </div>
  );
}

/** Load data with loading / error / reload handling. */
export function useAsync<T>(
  load: () => Promise<T>,
  deps: unknown[],
): { data: T | undefined; error: string | null; loading: boolean; reload: () => void } {
  const [state, setState] = useState<{ data: T | undefined; error: string | null; loading: boolean }>({
    data: undefined,
    error: null,
    loading: true,
  });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true, error: null }));
    load().then(
      (data) => live && setState({ data, error: null, loading: false }),
      (err: unknown) =>
        live && setState({ data: undefined, error: err instanceof Error ? err.message : String(err), loading: false }),
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  return { ...state, reload: () => setTick((t) => t + 1) };
}
