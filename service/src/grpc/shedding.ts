import { ServerInterceptingCall, type ServerInterceptor } from '@grpc/grpc-js';
import { OverloadedError } from '../orders/errors';
import type { OverloadGuard } from '../overload/overloadGuard';
import { GRPC_KINDS } from '../http/routes';
import { ORDER_SERVICE_NAME } from './protos';
import { statusForError } from './statusMapping';

/**
 * Sheds order.v1 calls before the handler runs (so before any database work), with the same
 * guard, limits and kinds (the route table's) as HTTP; health and reflection are never shed. The call holds its in-flight
 * slot until its status is sent or it is cancelled.
 */
export function shedGrpcIfOverloaded(guard: Pick<OverloadGuard, 'tryAdmit'>): ServerInterceptor {
  return (methodDescriptor, call) => {
    const [service, method = ''] = methodDescriptor.path.replace(/^\//, '').split('/');
    const kind = service === ORDER_SERVICE_NAME ? GRPC_KINDS[method] : undefined;
    if (kind === undefined) return new ServerInterceptingCall(call);
    const admission = guard.tryAdmit(kind);
    const shed = admission instanceof OverloadedError ? admission : undefined;
    const release = admission instanceof OverloadedError ? undefined : admission;
    return new ServerInterceptingCall(call, {
      start: (next) => {
        next({
          // A shed call's request never reaches the handler.
          onReceiveMessage: (message, nextMessage) => {
            if (!shed) nextMessage(message);
          },
          onReceiveHalfClose: (nextHalfClose) => {
            if (!shed) nextHalfClose();
          },
          onCancel: () => release?.(),
        });
        if (shed) {
          const status = statusForError(shed);
          setImmediate(() => call.sendStatus(status));
        }
      },
      sendStatus: (status, next) => {
        release?.();
        next(status);
      },
    });
  };
}
