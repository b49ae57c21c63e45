import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { OverloadedError } from '../orders/errors';
import type { OverloadGuard } from '../overload/overloadGuard';
import type { RequestKind } from '../overload/shedDecision';
import { problemForError } from './errorMapping';
import { sendProblem } from './problem';

function requestKind(req: Request): RequestKind {
  if (req.method === 'GET' || req.method === 'HEAD') return 'read';
  return /^\/v1\/orders\/?$/.test(req.path) ? 'create' : 'write';
}

/**
 * Sheds /v1 requests before routing, parsing or any database work. A shed request costs a few
 * comparisons and one small 503 problem with Retry-After.
 */
export function shedIfOverloaded(guard: OverloadGuard): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    if (!req.path.startsWith('/v1/')) {
      next();
      return;
    }
    let release: () => void;
    try {
      release = guard.admit(requestKind(req));
    } catch (err) {
      if (!(err instanceof OverloadedError)) throw err;
      const mapped = problemForError(err);
      sendProblem(res, mapped.body, mapped.headers);
      return;
    }
    res.once('close', release);
    next();
  };
}

/**
 * Once shutdown starts, every response asks the client to close its connection, so pooled
 * keep-alive sockets are retired by the client before the server closes them under its feet.
 */
export function closeConnectionsWhenStopping(isStopping: () => boolean): RequestHandler {
  return (_req, res, next) => {
    if (isStopping()) res.setHeader('Connection', 'close');
    next();
  };
}
