import autocannon from 'autocannon';
import type { LoadMix } from './profileArgs';

const ORDER_BODY = JSON.stringify({
  customerId: 'profile-customer',
  currency: 'EUR',
  items: [
    { sku: 'SKU-PROFILE-1', quantity: 2, unitPriceCents: 1250 },
    { sku: 'SKU-PROFILE-2', quantity: 1, unitPriceCents: 4999 },
  ],
});

export interface LoadSummary {
  readonly requests: number;
  readonly reqPerSec: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly p99Ms: number;
}

/** Creates a few orders so GET has rows to read; bounded in count. */
async function seed(baseUrl: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const res = await fetch(`${baseUrl}/v1/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: ORDER_BODY,
      signal: AbortSignal.timeout(10000),
    });
    if (res.status !== 201) throw new Error(`seeding: POST /v1/orders answered ${res.status}`);
    ids.push(((await res.json()) as { id: string }).id);
  }
  return ids;
}

/** The load a profile is taken under: POST, GET by id, or both alternating; bounded by duration. */
export async function runProfileLoad(options: {
  baseUrl: string;
  durationSeconds: number;
  connections: number;
  load: LoadMix;
}): Promise<LoadSummary> {
  const ids = options.load === 'post' ? [] : await seed(options.baseUrl, 50);
  let next = 0;
  const post = {
    method: 'POST' as const,
    path: '/v1/orders',
    headers: { 'content-type': 'application/json' },
    body: ORDER_BODY,
  };
  const get = {
    method: 'GET' as const,
    setupRequest: (req: autocannon.Request) => ({ ...req, path: `/v1/orders/${ids[next++ % ids.length]}` }),
  };
  const requests = options.load === 'post' ? [post] : options.load === 'get' ? [get] : [post, get];
  const result = await autocannon({
    url: options.baseUrl,
    connections: options.connections,
    duration: options.durationSeconds,
    timeout: 10,
    requests,
  });
  return {
    requests: result.requests.total,
    reqPerSec: result['2xx'] / result.duration,
    non2xx: result.non2xx,
    errors: result.errors,
    p99Ms: result.latency.p99,
  };
}
