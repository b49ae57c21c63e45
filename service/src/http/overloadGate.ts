import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { OverloadedError } from '../orders/errors';
import type { OverloadGuard } from '../overload/overloadGuard';
import { markShed } from '../telemetry/httpTelemetry';
import { problemForError } from './errorMapping';
import { PROBLEM_CONTENT_TYPE } from './problem';
import { pathOf, requestKind } from './routes';

/** The guard reuses one error per reason, so each shed response is rendered once. */
const renderedShed = new WeakMap<
  OverloadedError,
  { status: number; headers: Record<string, string | number>; payload: string }
>();

function shedResponse(err: OverloadedError): {
  status: number;
  headers: Record<string, string | number>;
  payload: string;
} {
  let rendered = renderedShed.get(err);
  if (!rendered) {
    const { body, headers } = problemForError(err);
    const payload = JSON.stringify(body);
    rendered = {
      status: body.status,
      headers: {
        ...headers,
        'Content-Type': PROBLEM_CONTENT_TYPE,
        'Content-Length': Buffer.byteLength(payload),
      },
      payload,
    };
    renderedShed.set(err, rendered);
  }
  return rendered;
}

/**
 * Sits in front of the Express app on the raw `http` request: sheds API requests (the route table's
 * kind; /v1 paths no route serves count as reads) before routing,
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
    const kind = requestKind(req.method, pathOf(req.url));
    if (kind === undefined) {
      app(req, res);
      return;
    }
    const admission = guard.tryAdmit(kind);
    if (admission instanceof OverloadedError) {
      const { status, headers, payload } = shedResponse(admission);
      markShed(res, admission.reason);
      res.writeHead(status, headers);
      res.end(payload);
      return;
    }
    const release = admission;
    res.once('close', release);
    app(req, res);
  };
}
