/** Metric keys: 1–64 characters of a–z, 0–9, `_ . -`, starting with a letter or digit (experiments, events, features, report queries, the console). */
export const METRIC_KEY = /^[a-z0-9][a-z0-9_.-]{0,63}$/;
