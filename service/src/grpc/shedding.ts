import { ServerInterceptingCall, type ServerInterceptor } from '@grpc/grpc-js';
import { OverloadedError } from '../orders/errors';
import type { OverloadGuard } from '../overload/overloadGuard';
import type { RequestKind } from '../overload/shedDecision';
import { ORDER_SERVICE_NAME } from './protos';
import { statusForError } from './statusMapping';

const KIND_BY_METHOD: Readonly<Record<string, RequestKind>> = {
  CreateOrder: 'create',
  GetOrder: 'read',
  ListOrders: 'read',
  CancelOrder: 'write',
};

/**
 * Sheds order.v1 calls before the handler runs (so before any database work), with the same
 * guard and limits as HTTP; health and reflection are never shed. The call holds its in-flight
 * slot until its status is sent or it is cancelled.
 */
export function shedGrpcIfOverloaded(guard: Pick<OverloadGuard, 'admit'>): ServerInterceptor {
  return (methodDescriptor, call) => {
    const [service, method = ''] = methodDescriptor.path.replace(/^\//, '').split('/');
    const kind = service === ORDER_SERVICE_NAME ? KIND_BY_METHOD[method] : undefined;
    if (kind === undefined) return new ServerInterceptingCall(call);
    let release: (() => void) | undefined;
    let shed: OverloadedError | undefined;
    try {
      release = guard.admit(kind);
    } catch (err) {
      if (!(err instanceof OverloadedError)) throw err;
      shed = err;
    }
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
