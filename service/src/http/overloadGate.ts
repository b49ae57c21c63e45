import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { OverloadedError } from '../orders/errors';
import type { OverloadGuard } from '../overload/overloadGuard';
import type { RequestKind } from '../overload/shedDecision';
import { problemForError } from './errorMapping';
import { PROBLEM_CONTENT_TYPE } from './problem';

function requestKind(method: string | undefined, path: string): RequestKind {
  if (method === 'GET' || method === 'HEAD') return 'read';
  return method === 'POST' && /^\/v1\/orders\/?$/.test(path) ? 'create' : 'write';
}

/**
 * Sits in front of the Express app on the raw `http` request: sheds /v1 requests before routing,
 * body parsing or any database work, so a shed request costs a few comparisons and one small 503
 * problem with Retry-After — cheap enough to keep shedding at several times capacity.
 * Once shutdown starts, every response also asks the client to close its connection, so pooled
 * keep-alive sockets are retired by the client before the server closes them under its feet.
 */
export function gateRequests(
  guard: OverloadGuard,
  app: RequestListener,
  isStopping: () => boolean,
): RequestListener {
  return (req: IncomingMessage, res: ServerResponse) => {
    if (isStopping()) res.setHeader('Connection', 'close');
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query);
    if (!path.startsWith('/v1/')) {
      app(req, res);
      return;
    }
    let release: () => void;
    try {
      release = guard.admit(requestKind(req.method, path));
    } catch (err) {
      if (!(err instanceof OverloadedError)) throw err;
      const { body, headers } = problemForError(err);
      const payload = JSON.stringify(body);
      res.writeHead(body.status, {
        ...headers,
        'Content-Type': PROBLEM_CONTENT_TYPE,
        'Content-Length': Buffer.byteLength(payload),
      });
      res.end(payload);
      return;
    }
    res.once('close', release);
    app(req, res);
  };
}
