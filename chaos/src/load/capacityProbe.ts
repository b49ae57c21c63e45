import { assertLoopback, orderBody, seededRandom } from './openModelLoad';

/**
 * Closed-loop probe of the API's capacity: `concurrency` workers send orders back to back for
 * `seconds`; capacity is 2xx per second. Used only to size the overload spike, never as the drill's load.
 */
export async function probeCapacity(
  baseUrl: string,
  options: { seconds: number; concurrency: number; seed: number },
): Promise<{ okPerSecond: number; requests: number; ok: number }> {
  assertLoopback(baseUrl);
  const url = new URL('/v1/orders', baseUrl).toString();
  const random = seededRandom(options.seed);
  const end = Date.now() + options.seconds * 1000;
  let ok = 0;
  let requests = 0;
  const worker = async (w: number): Promise<void> => {
    let i = 0;
    while (Date.now() < end) {
      requests++;
      try {
        const r = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: orderBody(random, w * 100_000 + i++),
          signal: AbortSignal.timeout(5000),
        });
        await r.arrayBuffer();
        if (r.ok) ok++;
      } catch {
        // counted as not ok
      }
    }
  };
  const begin = Date.now();
  await Promise.all(Array.from({ length: options.concurrency }, (_, w) => worker(w)));
  return { okPerSecond: ok / ((Date.now() - begin) / 1000), requests, ok };
}
