import { OverloadedError } from '../orders/errors';
import type { OverloadGuard } from '../overload/overloadGuard';
import { problemForError } from './errorMapping';
import { PROBLEM_CONTENT_TYPE } from './problem';
import type { RequestWrapper } from './requestState';

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
 * Sheds API requests (the route table's kind; /v1 paths no route serves count as reads) before
 * routing, body parsing or any database work, so a shed request costs a few comparisons and one
 * small 503 problem with Retry-After — cheap enough to keep shedding at several times capacity.
 * Once shutdown starts, every response also asks the client to close its connection, so pooled
 * keep-alive sockets are retired by the client before the server closes them under its feet.
 */
export function gateRequests(guard: OverloadGuard, isStopping: () => boolean): RequestWrapper {
  return (_req, res, state, next) => {
    if (isStopping()) res.setHeader('Connection', 'close');
    if (state.kind === undefined) {
      next();
      return;
    }
    const admission = guard.tryAdmit(state.kind);
    if (admission instanceof OverloadedError) {
      const { status, headers, payload } = shedResponse(admission);
      state.shedReason = admission.reason;
      res.writeHead(status, headers);
      res.end(payload);
      return;
    }
    res.once('close', admission);
    next();
  };
}
