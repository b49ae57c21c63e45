import type { LedgerEntry } from '../../src/load/ledger';

let n = 0;

/** A ledger entry intended at `at` (epoch ms) with the given status; 2xx ones carry an order id. */
export function entry(at: number, status: number | null, extra: Partial<LedgerEntry> = {}): LedgerEntry {
  n++;
  return {
    requestId: `r${n}`,
    idempotencyKey: `k${n}`,
    target: 'api',
    intendedAt: at,
    sentAt: at,
    completedAt: at + (extra.latencyMs ?? 10),
    status,
    latencyMs: 10,
    ...(status !== null && status < 300 ? { orderId: `o${n}` } : {}),
    ...extra,
  };
}
