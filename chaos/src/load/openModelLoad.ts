import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LedgerEntry } from './ledger';
import { LoadClient } from './loadClient';

/** From `atS` seconds after the start, send `rate` requests per second (until the next step). */
export interface RateStep {
  readonly atS: number;
  readonly rate: number;
}

export interface OpenModelLoadOptions {
  /** Base URL of the API, e.g. http://127.0.0.1:8780; must be a loopback address. */
  readonly baseUrl: string;
  /** Ledger label for this endpoint. */
  readonly target?: string;
  readonly steps: readonly RateStep[];
  readonly durationS: number;
  /** Hard bound on requests whatever the rate says. */
  readonly maxRequests?: number;
  /** Requests in flight above this are not sent but recorded as `client_overflow` (the generator's own limit). */
  readonly maxInFlight?: number;
  readonly requestTimeoutMs?: number;
  /** Seeds arrival gaps (Poisson when `poisson`) and request bodies. */
  readonly seed: number;
  readonly poisson?: boolean;
  /** Called for every completed request (e.g. a LedgerWriter). */
  readonly onEntry?: (entry: LedgerEntry) => void;
  /** Called once a second with a progress snapshot. */
  readonly onProgress?: (p: LoadProgress) => void;
  readonly signal?: AbortSignal;
  /**
   * Keep-alive connections to reuse (e.g. across the steps of a capacity ladder, as one client
   * fleet would); the caller closes it. Without one, the run opens its own and closes it at the end.
   */
  readonly client?: LoadClient;
}

export interface LoadProgress {
  readonly elapsedS: number;
  readonly sent: number;
  readonly completed: number;
  readonly inFlight: number;
  readonly ok: number;
  readonly failed: number;
  readonly rate: number;
}

export interface LoadResult {
  readonly entries: LedgerEntry[];
  readonly start: number;
  readonly end: number;
  readonly runId: string;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

export function assertLoopback(url: string): void {
  const host = new URL(url).hostname;
  if (!LOOPBACK.has(host)) throw new Error(`load goes to 127.0.0.1 only; refusing ${url}`);
}

/** Small seeded PRNG (mulberry32) so a seed reproduces arrivals and bodies. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function rateAt(steps: readonly RateStep[], atS: number): number {
  let rate = 0;
  for (const s of steps) if (s.atS <= atS) rate = s.rate;
  return rate;
}

/**
 * Intended send offsets (ms from start) for an open-model schedule: arrivals follow the rate steps,
 * independent of how fast the service answers. Bounded by duration and maxRequests.
 */
export function arrivalSchedule(
  steps: readonly RateStep[],
  durationS: number,
  maxRequests: number,
  random: () => number,
  poisson: boolean,
): number[] {
  const out: number[] = [];
  let t = 0;
  const endMs = durationS * 1000;
  while (out.length < maxRequests) {
    const rate = rateAt(steps, t / 1000);
    if (rate <= 0) {
      const next = steps.find((s) => s.atS * 1000 > t);
      if (!next) break;
      t = next.atS * 1000;
      continue;
    }
    const gap = poisson ? (-Math.log(1 - random()) * 1000) / rate : 1000 / rate;
    // Crossing into the next step: continue from its start at its own rate.
    const boundary = steps.find((s) => s.atS * 1000 > t && s.atS * 1000 <= t + gap);
    if (boundary) {
      t = boundary.atS * 1000;
      continue;
    }
    t += gap;
    if (t >= endMs) break;
    out.push(t);
  }
  return out;
}

export function orderBody(random: () => number, i: number): string {
  const items = 1 + Math.floor(random() * 3);
  return JSON.stringify({
    customerId: `drill-customer-${Math.floor(random() * 500)}`,
    currency: 'EUR',
    items: Array.from({ length: items }, (_, k) => ({
      sku: `SKU-${(i + k) % 97}`,
      quantity: 1 + Math.floor(random() * 5),
      unitPriceCents: 100 + Math.floor(random() * 9900),
    })),
  });
}

function errorCode(error: unknown): string {
  const e = error as {
    name?: string;
    code?: string;
    cause?: { code?: string; name?: string; message?: string };
  };
  if (e.name === 'TimeoutError' || e.cause?.name === 'TimeoutError') return 'timeout';
  if (e.name === 'AbortError') return 'aborted';
  return e.cause?.code ?? e.code ?? e.cause?.message ?? e.name ?? 'unknown';
}

/**
 * Open-model load: POST /v1/orders at the scheduled times whether or not earlier requests have
 * answered (no coordinated omission: latency counts from the intended time). A light node:http
 * client with keep-alive (LoadClient) so the generator's own CPU stays small.
 */
export async function runOpenModelLoad(options: OpenModelLoadOptions): Promise<LoadResult> {
  assertLoopback(options.baseUrl);
  const url = new URL('/v1/orders', options.baseUrl);
  const client = options.client ?? new LoadClient();
  const random = seededRandom(options.seed);
  const schedule = arrivalSchedule(
    options.steps,
    options.durationS,
    options.maxRequests ?? 200_000,
    random,
    options.poisson ?? false,
  );
  const maxInFlight = options.maxInFlight ?? 1000;
  const timeoutMs = options.requestTimeoutMs ?? 10_000;
  const target = options.target ?? 'api';
  const runId = randomUUID().slice(0, 8);
  const entries: LedgerEntry[] = [];
  const pending = new Set<Promise<void>>();
  let ok = 0;
  let failed = 0;
  const start = Date.now();

  const record = (entry: LedgerEntry): void => {
    entries.push(entry);
    if (entry.status !== null && entry.status >= 200 && entry.status < 300) ok++;
    else failed++;
    options.onEntry?.(entry);
  };

  const send = async (i: number, intendedAt: number, body: string): Promise<void> => {
    const requestId = `${runId}-${i}`;
    const idempotencyKey = `drill-${runId}-${i}`;
    // Each request starts its own sampled trace, so the audit can find it without asking the service.
    const traceId = randomBytes(16).toString('hex');
    const sentAt = Date.now();
    try {
      const response = await client.request(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'idempotency-key': idempotencyKey,
          'x-request-id': requestId,
          traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01`,
        },
        body,
        timeoutMs,
      });
      const completedAt = Date.now();
      const responseOk = response.status >= 200 && response.status < 300;
      let orderId: string | undefined;
      let problemType: string | undefined;
      let problemDetail: string | undefined;
      try {
        const json = JSON.parse(response.body) as { id?: unknown; type?: unknown; detail?: unknown };
        if (responseOk && typeof json.id === 'string') orderId = json.id;
        if (!responseOk && typeof json.type === 'string') problemType = json.type;
        if (!responseOk && typeof json.detail === 'string') problemDetail = json.detail.slice(0, 160);
      } catch {
        if (!responseOk) problemType = 'non-json body';
      }
      const retryAfter = response.headers['retry-after'];
      record({
        requestId,
        idempotencyKey,
        target,
        intendedAt,
        sentAt,
        completedAt,
        status: response.status,
        latencyMs: completedAt - intendedAt,
        traceId,
        ...(orderId !== undefined ? { orderId } : {}),
        ...(problemType !== undefined ? { errorCode: problemType } : {}),
        ...(problemDetail !== undefined ? { errorDetail: problemDetail } : {}),
        ...(retryAfter !== undefined ? { retryAfter } : {}),
      });
    } catch (error) {
      const completedAt = Date.now();
      record({
        requestId,
        idempotencyKey,
        target,
        intendedAt,
        sentAt,
        completedAt,
        status: null,
        latencyMs: completedAt - intendedAt,
        errorCode: errorCode(error),
      });
    }
  };

  let sent = 0;
  let lastProgress = start;
  for (let i = 0; i < schedule.length; i++) {
    if (options.signal?.aborted) break;
    const intendedAt = start + (schedule[i] as number);
    const wait = intendedAt - Date.now();
    if (wait > 1) await sleep(wait);
    const body = orderBody(random, i);
    if (pending.size >= maxInFlight) {
      const now = Date.now();
      record({
        requestId: `${runId}-${i}`,
        idempotencyKey: `drill-${runId}-${i}`,
        target,
        intendedAt,
        sentAt: null,
        completedAt: now,
        status: null,
        latencyMs: now - intendedAt,
        errorCode: 'client_overflow',
      });
    } else {
      const p = send(i, intendedAt, body).finally(() => pending.delete(p));
      pending.add(p);
      sent++;
    }
    if (options.onProgress && Date.now() - lastProgress >= 1000) {
      lastProgress = Date.now();
      options.onProgress({
        elapsedS: (lastProgress - start) / 1000,
        sent,
        completed: entries.length,
        inFlight: pending.size,
        ok,
        failed,
        rate: rateAt(options.steps, (lastProgress - start) / 1000),
      });
    }
  }
  await Promise.all(pending);
  if (!options.client) client.close();
  return { entries, start, end: Date.now(), runId };
}
