import { trace } from '@opentelemetry/api';
import winston from 'winston';
import { BatchedStdoutTransport } from './stdoutTransport';

export type Logger = winston.Logger;

/** JSON lines to stdout (batched per event-loop turn), one logger per process; child loggers add component fields. */
export function createLogger(options: {
  level: string;
  service: string;
  roles: readonly string[];
  /** The release (SERVICE_VERSION), on every line when given. */
  version?: string;
}): Logger {
  return winston.createLogger({
    level: options.level,
    defaultMeta: {
      service: options.service,
      role: options.roles.join(','),
      ...(options.version !== undefined ? { version: options.version } : {}),
    },
    format: winston.format.combine(
      traceContextFormat(),
      winston.format.timestamp(),
      winston.format.errors({ stack: true, cause: true }),
      redactionFormat(),
      winston.format.json(),
    ),
    transports: [new BatchedStdoutTransport()],
  });
}

/**
 * trace_id/span_id of the active span. The winston instrumentation adds them when the SDK is on;
 * this covers lines it cannot see (tests without the preload) and never overwrites ids given
 * explicitly (the access line passes the request's span, whatever context `finish` runs in).
 */
export const traceContextFormat = winston.format((info) => {
  if (info['trace_id'] === undefined) {
    const context = trace.getActiveSpan()?.spanContext();
    if (context) {
      info['trace_id'] = context.traceId;
      info['span_id'] = context.spanId;
    }
  }
  return info;
});

/** Field names whose values never reach a log line. */
const SENSITIVE_KEY =
  /authorization|cookie|passw(or)?d|secret|token|api[-_]?key|cvv|cvc|card[-_]?number|^pan$/i;
/** 13–19 digits, optionally grouped by spaces or dashes: a candidate payment card number. */
const CARD_CANDIDATE = /\b\d(?:[ -]?\d){12,18}\b/g;
const MAX_DEPTH = 5;
const MAX_ARRAY = 50;

export const REDACTED = '[REDACTED]';

/** Replaces sensitive fields and card numbers, and turns Error values into plain objects. */
export const redactionFormat = winston.format((info) => {
  for (const key of Object.keys(info)) {
    if (key === 'level' || key === 'timestamp' || key === 'trace_id' || key === 'span_id') continue;
    info[key] = redactValue(key, info[key], 0);
  }
  return info;
});

export function redactValue(key: string, value: unknown, depth: number): unknown {
  if (SENSITIVE_KEY.test(key)) return value === undefined || value === null ? value : REDACTED;
  if (typeof value === 'string') return redactCardNumbers(value);
  if (value === null || typeof value !== 'object' || depth >= MAX_DEPTH) return value;
  if (value instanceof Error) return serializeError(value, depth);
  if (value instanceof Date) return value;
  if (Array.isArray(value)) return value.slice(0, MAX_ARRAY).map((v) => redactValue('', v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = redactValue(k, v, depth + 1);
  return out;
}

/** Errors keep name, message, stack, code and their cause chain (also redacted). */
export function serializeError(err: Error, depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = { name: err.name, message: redactCardNumbers(err.message) };
  const code = (err as { code?: unknown }).code;
  if (code !== undefined) out['code'] = code;
  if (err.stack) out['stack'] = redactCardNumbers(err.stack);
  if (err.cause !== undefined) out['cause'] = redactValue('cause', err.cause, depth + 1);
  return out;
}

export function redactCardNumbers(text: string): string {
  if (text.length < 13) return text;
  return text.replace(CARD_CANDIDATE, (match) => (passesLuhn(match.replace(/[ -]/g, '')) ? REDACTED : match));
}

function passesLuhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}
