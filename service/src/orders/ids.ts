import { randomUUID } from 'node:crypto';

/**
 * RFC 9562 UUIDv7: time-ordered, so new rows land at the right edge of the primary-key index.
 * The 74 random bits come from randomUUID(), which draws from a cached entropy pool (randomBytes
 * per id was a getrandom call each time); its version nibble is replaced, its variant bits kept.
 */
export function newUuidV7(now: number = Date.now()): string {
  const ms = now.toString(16).padStart(12, '0');
  const random = randomUUID(); // xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx
  return `${ms.slice(0, 8)}-${ms.slice(8, 12)}-7${random.slice(15, 18)}-${random.slice(19)}`;
}

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID_PATTERN.test(value);
}
