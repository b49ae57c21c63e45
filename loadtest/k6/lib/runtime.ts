/**
 * What every k6 script shares at run time: settings from __ENV, the SLO file and the custom
 * metrics. Init-context module (open() runs once per VU when the script loads).
 */
import { Rate, Trend } from 'k6/metrics';
import { METRIC } from '../config/names.ts';
import { readSettings } from '../config/settings.ts';
import { parseSlo } from '../config/slo.ts';

export const settings = readSettings(__ENV);

// import.meta.resolve makes the path relative to this file, not to the scenario that imports it.
export const slo = parseSlo(JSON.parse(open(import.meta.resolve('../config/slo.json'))));

export const sloBadRequests = new Rate(METRIC.sloBadRequests);
export const freshnessWithinSlo = new Rate(METRIC.freshnessWithinSlo);
export const confirmationDelay = new Trend(METRIC.confirmationDelay, true);

/** What setup() hands to every VU: the run id and orders the read traffic can look up. */
export interface SeedData {
  readonly runId: string;
  readonly customers: readonly string[];
  readonly orderIds: readonly string[];
}

/** Parses a JSON body into an object, or undefined for anything else. */
export function parseObject(body: unknown): Record<string, unknown> | undefined {
  if (typeof body !== 'string' || body.length === 0) return undefined;
  try {
    const value: unknown = JSON.parse(body);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

export function pick<T>(items: readonly T[]): T | undefined {
  return items[Math.floor(Math.random() * items.length)];
}
