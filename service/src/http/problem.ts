import type { Response } from 'express';
import type { FieldProblem } from '../orders/errors';

/** RFC 9457 problem details. `type` is a relative URI naming the problem class. */
export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail?: string;
  readonly instance?: string;
  readonly errors?: readonly FieldProblem[];
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export function problem(
  status: number,
  slug: string,
  title: string,
  detail?: string,
  errors?: readonly FieldProblem[],
): Problem {
  return {
    type: slug === 'about:blank' ? 'about:blank' : `/problems/${slug}`,
    title,
    status,
    ...(detail !== undefined ? { detail } : {}),
    ...(errors && errors.length > 0 ? { errors } : {}),
  };
}

export function sendProblem(res: Response, body: Problem, headers: Record<string, string> = {}): void {
  res.status(body.status).set(headers).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(body));
}
