import {
  Metadata,
  status as Code,
  type sendUnaryData,
  type ServerUnaryCall,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import type { OrderUseCases } from '../orders/useCases';
import type { Logger } from '../telemetry/logger';
import {
  type CancelOrderRequest,
  type CreateOrderRequest,
  type GetOrderRequest,
  idempotencyKeyOf,
  type ListOrdersRequest,
  type ListOrdersResponse,
  newOrderInput,
  type OrderMessage,
  orderMessage,
} from './orderMessages';
import { CallStoppedError, isServerFault, statusForError } from './statusMapping';

export interface OrderServiceOptions {
  readonly orders: OrderUseCases;
  readonly logger: Logger;
  /** Calls with less time than this left before their deadline stop before any work. */
  readonly minDeadlineMs: number;
}

/** Response header on a CreateOrder answered from an earlier call with the same idempotency key. */
export const REPLAYED_HEADER = 'idempotent-replayed';

interface Reply<Res> {
  readonly message: Res;
  readonly headers?: Metadata;
}

/**
 * order.v1.OrderService handlers: each only translates the request, calls the use case and
 * translates the answer; errors go through statusForError.
 */
export function orderServiceHandlers(options: OrderServiceOptions): UntypedServiceImplementation {
  const { orders } = options;
  const unary = unaryHandler(options);
  return {
    CreateOrder: unary<CreateOrderRequest, OrderMessage>(async (request) => {
      const { order, created } = await orders.createOrder(newOrderInput(request), idempotencyKeyOf(request));
      const headers = new Metadata();
      if (!created) headers.set(REPLAYED_HEADER, 'true');
      return { message: orderMessage(order), headers };
    }),
    GetOrder: unary<GetOrderRequest, OrderMessage>(async (request) => ({
      message: orderMessage(await orders.getOrder(request.id)),
    })),
    ListOrders: unary<ListOrdersRequest, ListOrdersResponse>(async (request) => {
      const page = await orders.listOrders({
        customerId: request.customer_id,
        // proto3 sends an unset page_size as 0: that means "the default", as a missing `limit` does.
        ...(request.page_size !== 0 ? { limit: request.page_size } : {}),
        ...(request.page_token !== '' ? { cursor: request.page_token } : {}),
      });
      return {
        message: { orders: page.orders.map(orderMessage), next_page_token: page.nextCursor ?? '' },
      };
    }),
    CancelOrder: unary<CancelOrderRequest, OrderMessage>(async (request) => ({
      message: orderMessage(await orders.cancelOrder(request.id)),
    })),
  };
}

function unaryHandler(options: OrderServiceOptions) {
  return <Req, Res>(handle: (request: Req) => Promise<Reply<Res>>) =>
    (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>): void => {
      const run = async (): Promise<Reply<Res>> => {
        stopIfNoTimeLeft(call, options.minDeadlineMs);
        return handle(call.request);
      };
      run().then(
        (reply) => {
          if (reply.headers && Object.keys(reply.headers.getMap()).length > 0) {
            call.sendMetadata(reply.headers);
          }
          callback(null, reply.message);
        },
        (err: unknown) => {
          const mapped = statusForError(err);
          if (isServerFault(mapped.code)) {
            options.logger.error('grpc call failed', {
              method: call.getPath(),
              code: Code[mapped.code],
              err,
            });
          }
          callback(mapped);
        },
      );
    };
}

/**
 * Stops a call before any database work when its caller has gone or its deadline is (nearly)
 * spent: the answer could not reach the caller in time, so the write would only be a surprise.
 */
export function stopIfNoTimeLeft(
  call: Pick<ServerUnaryCall<unknown, unknown>, 'cancelled' | 'getDeadline'>,
  minDeadlineMs: number,
  now: number = Date.now(),
): void {
  if (call.cancelled) throw new CallStoppedError(Code.CANCELLED, 'call cancelled by the client');
  const remainingMs = remainingTimeMs(call.getDeadline(), now);
  if (remainingMs <= 0)
    throw new CallStoppedError(Code.DEADLINE_EXCEEDED, 'deadline exceeded before work began');
  if (remainingMs < minDeadlineMs) {
    throw new CallStoppedError(
      Code.DEADLINE_EXCEEDED,
      `deadline too short: ${Math.round(remainingMs)} ms left, the service needs at least ${minDeadlineMs} ms`,
    );
  }
}

export function remainingTimeMs(deadline: Date | number, now: number): number {
  const at = deadline instanceof Date ? deadline.getTime() : deadline;
  return at - now;
}
