/** Number and date formatting for the console (numbers are never rounded to mislead: 3 significant digits). */

export const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

export function num(x: unknown, digits = 3): string {
  if (!isNum(x)) return '—';
  if (x === 0) return '0';
  const abs = Math.abs(x);
  if (abs >= 1e6) return `${(x / 1e6).toPrecision(3)}M`;
  if (abs >= 1000) return Math.round(x).toLocaleString('en-US');
  if (abs < 1e-3) return x.toExponential(2);
  return String(Number(x.toPrecision(digits)));
}

export const int = (x: unknown): string => (isNum(x) ? Math.round(x).toLocaleString('en-US') : '—');

/** 0.041 → "+4.1%". */
export function signedPct(x: unknown, digits = 1): string {
  if (!isNum(x)) return '—';
  const v = x * 100;
  return `${v > 0 ? '+' : v < 0 ? '−' : ''}${Math.abs(v).toFixed(digits)}%`;
}

export function pct(x: unknown, digits = 1): string {
  return isNum(x) ? `${(x * 100).toFixed(digits)}%` : '—';
}

export function signed(x: unknown): string {
  if (!isNum(x)) return '—';
  return `${x > 0 ? '+' : x < 0 ? '−' : ''}${num(Math.abs(x))}`;
}

export function pValue(p: unknown): string {
  if (!isNum(p)) return '—';
  if (p < 0.001) return '< 0.001';
  return p.toFixed(3);
}

export function age(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '—';
  const s = Math.max(0, (now - new Date(iso).getTime()) / 1000);
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86400) return `${Math.floor(s / 3600)} h`;
  const d = Math.floor(s / 86400);
  return d === 1 ? '1 day' : `${d} days`;
}

export function dateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return d.toLocaleString('en-GB', {
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  });
}

export function slugify(s: string): string {
  return s
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 64);
}
