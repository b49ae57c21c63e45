/**
 * Typed view of config/slo.json (the SLOs of DESIGN.md §4) and the k6 threshold expressions
 * derived from it. Pure module: k6 scripts read the JSON with open() (lib/sloFile.ts), node:test
 * reads it with fs; both pass it through parseSlo so a malformed file fails before any load.
 */

export interface SloDefinition {
  readonly availability: {
    readonly objective: number;
    readonly badHttpStatus: { readonly atLeast: number; readonly also: readonly number[] };
    readonly badGrpcCodes: readonly GrpcCodeName[];
  };
  readonly latency: { readonly objective: number; readonly thresholdSeconds: number };
  readonly freshness: { readonly objective: number; readonly thresholdSeconds: number };
}

/** gRPC status codes by name (google.golang.org/grpc/codes; k6 reports the number). */
export const GRPC_CODES = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

export type GrpcCodeName = keyof typeof GRPC_CODES;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function objective(section: Record<string, unknown>, name: string, problems: string[]): number {
  const value = section['objective'];
  if (typeof value !== 'number' || !(value > 0 && value < 1)) {
    problems.push(`${name}.objective must be a number strictly between 0 and 1`);
    return 0.5;
  }
  return value;
}

function positiveSeconds(section: Record<string, unknown>, name: string, problems: string[]): number {
  const value = section['thresholdSeconds'];
  if (typeof value !== 'number' || !(value > 0)) {
    problems.push(`${name}.thresholdSeconds must be a positive number`);
    return 1;
  }
  return value;
}

/** Validates the parsed slo.json; throws listing every problem. */
export function parseSlo(json: unknown): SloDefinition {
  const problems: string[] = [];
  const root = isObject(json) ? json : {};
  const section = (name: string): Record<string, unknown> => {
    const value = root[name];
    if (!isObject(value)) problems.push(`${name} section is missing`);
    return isObject(value) ? value : {};
  };
  const availability = section('availability');
  const latency = section('latency');
  const freshness = section('freshness');

  const badHttp = isObject(availability['badHttpStatus']) ? availability['badHttpStatus'] : {};
  const atLeast = badHttp['atLeast'];
  const also = badHttp['also'];
  if (typeof atLeast !== 'number' || atLeast < 400 || atLeast > 599) {
    problems.push('availability.badHttpStatus.atLeast must be an HTTP status 400..599');
  }
  if (!Array.isArray(also) || !also.every((s) => typeof s === 'number' && s >= 400 && s <= 599)) {
    problems.push('availability.badHttpStatus.also must list HTTP statuses 400..599');
  }
  const codes = availability['badGrpcCodes'];
  if (
    !Array.isArray(codes) ||
    codes.length === 0 ||
    !codes.every((c) => typeof c === 'string' && c in GRPC_CODES)
  ) {
    problems.push(
      `availability.badGrpcCodes must list gRPC code names (${Object.keys(GRPC_CODES).join(', ')})`,
    );
  }
  const definition: SloDefinition = {
    availability: {
      objective: objective(availability, 'availability', problems),
      badHttpStatus: {
        atLeast: typeof atLeast === 'number' ? atLeast : 500,
        also: Array.isArray(also) ? (also as number[]) : [],
      },
      badGrpcCodes: Array.isArray(codes) ? (codes as GrpcCodeName[]) : [],
    },
    latency: {
      objective: objective(latency, 'latency', problems),
      thresholdSeconds: positiveSeconds(latency, 'latency', problems),
    },
    freshness: {
      objective: objective(freshness, 'freshness', problems),
      thresholdSeconds: positiveSeconds(freshness, 'freshness', problems),
    },
  };
  if (problems.length > 0)
    throw new Error(`invalid slo.json:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  return definition;
}

/** 1 - objective without binary noise (1 - 0.999 is 0.0010000000000000009 in floating point). */
export function errorBudget(objectiveValue: number): number {
  return Number((1 - objectiveValue).toPrecision(12));
}

/** Percentile name k6 understands for an objective: 0.99 → 'p(99)', 0.999 → 'p(99.9)'. */
export function percentileFor(objectiveValue: number): string {
  return `p(${Number((objectiveValue * 100).toPrecision(12))})`;
}

/** Whether an HTTP response counts against availability; status 0 means no response at all. */
export function isBadHttpStatus(slo: SloDefinition, status: number): boolean {
  const rule = slo.availability.badHttpStatus;
  return status === 0 || status >= rule.atLeast || rule.also.includes(status);
}

/** Whether a gRPC status code counts against availability. */
export function isBadGrpcCode(slo: SloDefinition, code: number): boolean {
  return slo.availability.badGrpcCodes.some((name) => GRPC_CODES[name] === code);
}

/**
 * The statuses k6 should treat as expected (http_req_failed=false), as ranges for
 * http.expectedStatuses: every status from 200 up to the first bad one, minus the extra bad ones.
 */
export function expectedHttpStatusRanges(slo: SloDefinition): { min: number; max: number }[] {
  const bad = new Set(
    slo.availability.badHttpStatus.also.filter((s) => s < slo.availability.badHttpStatus.atLeast),
  );
  const ranges: { min: number; max: number }[] = [];
  let start: number | undefined;
  for (let status = 200; status < slo.availability.badHttpStatus.atLeast; status += 1) {
    if (bad.has(status)) {
      if (start !== undefined) ranges.push({ min: start, max: status - 1 });
      start = undefined;
    } else if (start === undefined) {
      start = status;
    }
  }
  if (start !== undefined) ranges.push({ min: start, max: slo.availability.badHttpStatus.atLeast - 1 });
  return ranges;
}
