import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Span } from '@opentelemetry/api';
import type { RequestKind } from '../overload/shedDecision';
import { matchRequest, pathOf } from './routes';

/** Route label of requests that match no route: a fixed value keeps the label set bounded. */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * What the wrappers of the public listener know about one request, made once when it arrives and
 * handed down explicitly (no properties hung on `res`).
 */
export interface RequestState {
  readonly method: string;
  readonly path: string;
  /** The route table's template for the path, whatever the method (405s and shed requests too). */
  readonly route: string;
  /** How the overload guard treats it; undefined: never shed. */
  readonly kind: RequestKind | undefined;
  /** Set by the overload gate when it shed the request. */
  shedReason?: string;
  /** Set by the tracing wrapper: the request's SERVER span. */
  serverSpan?: Span;
}

export function requestStateFor(req: IncomingMessage): RequestState {
  const method = req.method ?? 'UNKNOWN';
  const path = pathOf(req.url);
  const { template, kind } = matchRequest(req.method, path);
  return { method, path, route: template ?? UNMATCHED_ROUTE, kind };
}

/** One wrapper of the public listener: does its part, then calls `next` (or answers by itself). */
export type RequestWrapper = (
  req: IncomingMessage,
  res: ServerResponse,
  state: RequestState,
  next: () => void,
) => void;
