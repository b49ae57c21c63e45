/**
 * k6 provides `console` (log/info/warn/error/debug go to k6's logger) but @types/k6 does not
 * declare it, and lib "dom" would declare far more than k6 has.
 */
declare const console: {
  log(...values: unknown[]): void;
  info(...values: unknown[]): void;
  warn(...values: unknown[]): void;
  error(...values: unknown[]): void;
  debug(...values: unknown[]): void;
};
