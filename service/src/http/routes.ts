import type { Request, Response } from 'express';
import type { Order } from '../orders/order';
import type { OrderUseCases } from '../orders/useCases';
import type { RequestKind } from '../overload/shedDecision';
import { orderJson } from './orderJson';
import { openApiDocument } from './requestValidation';

export type HttpMethod = 'GET' | 'POST';

export interface Route {
  readonly method: HttpMethod;
  /** Express-style template, also the metric and span route label. */
  readonly template: string;
  /** How the overload guard treats it; none: never shed (e.g. the OpenAPI document). */
  readonly kind?: RequestKind;
  /** The order.v1 gRPC method serving the same use case (shed as the same kind). */
  readonly grpcMethod?: string;
  /** The OpenAPI operation whose path, query and body schemas the request is validated against. */
  readonly operationId?: string;
  /** Takes a JSON body (checked for presence and media type, parsed, validated). */
  readonly jsonBody?: boolean;
  handle(orders: OrderUseCases, req: Request, res: Response): Promise<void> | void;
}

/**
 * The one route table: Express routes, 404/405 with Allow, the shed kind (HTTP and gRPC), the route
 * label of metrics and spans, and which OpenAPI operation validates the request all come from here.
 */
export const ROUTES: readonly Route[] = [
  {
    method: 'POST',
    template: '/v1/orders',
    kind: 'create',
    grpcMethod: 'CreateOrder',
    operationId: 'createOrder',
    jsonBody: true,
    async handle(orders, req, res) {
      const body = req.body as {
        customerId: string;
        currency: string;
        items: { sku: string; quantity: number; unitPriceCents: number }[];
      };
      const { order, created } = await orders.createOrder(
        { customerId: body.customerId, currency: body.currency, items: body.items },
        req.get('Idempotency-Key'),
      );
      res.status(201).location(`/v1/orders/${order.id}`);
      if (!created) res.set('Idempotent-Replayed', 'true');
      res.json(orderJson(order));
    },
  },
  {
    method: 'GET',
    template: '/v1/orders',
    kind: 'read',
    grpcMethod: 'ListOrders',
    operationId: 'listOrders',
    async handle(orders, req, res) {
      // Validated against the operation's parameters: customerId given, limit an integer, nothing else.
      const query = req.query as unknown as { customerId: string; limit?: number; cursor?: string };
      const page = await orders.listOrders({
        customerId: query.customerId,
        ...(query.limit !== undefined ? { limit: query.limit } : {}),
        ...(query.cursor !== undefined ? { cursor: query.cursor } : {}),
      });
      res.json({ orders: page.orders.map(orderJson), nextCursor: page.nextCursor });
    },
  },
  orderByIdRoute('GET', '/v1/orders/:id', 'read', 'GetOrder', 'getOrder', (orders, id) =>
    orders.getOrder(id),
  ),
  orderByIdRoute('POST', '/v1/orders/:id/cancel', 'write', 'CancelOrder', 'cancelOrder', (orders, id) =>
    orders.cancelOrder(id),
  ),
  {
    method: 'GET',
    template: '/openapi.json',
    handle(_orders, _req, res) {
      res.json(openApiDocument);
    },
  },
];

/** A route acting on the order named by its `:id`, answering with the order. */
function orderByIdRoute(
  method: HttpMethod,
  template: string,
  kind: RequestKind,
  grpcMethod: string,
  operationId: string,
  act: (orders: OrderUseCases, id: string) => Promise<Order>,
): Route {
  return {
    method,
    template,
    kind,
    grpcMethod,
    operationId,
    async handle(orders, req, res) {
      res.json(orderJson(await act(orders, String(req.params['id']))));
    },
  };
}

/** The path of a request URL, without its query string. */
export function pathOf(url: string | undefined): string {
  const u = url ?? '/';
  const query = u.indexOf('?');
  return query === -1 ? u : u.slice(0, query);
}

interface PathPattern {
  readonly template: string;
  readonly pattern: RegExp;
  readonly routes: readonly Route[];
}

/** One pattern per template (a trailing slash allowed, as Express does), with the routes sharing it. */
const PATTERNS: readonly PathPattern[] = [...new Set(ROUTES.map((r) => r.template))].map((template) => ({
  template,
  pattern: new RegExp(
    `^${template
      .split('/')
      .map((part) => (part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('/')}/?$`,
  ),
  routes: ROUTES.filter((r) => r.template === template),
}));

function patternFor(path: string): PathPattern | undefined {
  return PATTERNS.find((p) => p.pattern.test(path));
}

/** The route template a path belongs to, whatever the method (405s and shed requests are labelled too). */
export function routeTemplateFor(path: string): string | undefined {
  return patternFor(path)?.template;
}

/** The methods a path allows (for 405's Allow header); none when no route has the path. */
export function allowedMethods(path: string): readonly HttpMethod[] {
  return (
    patternFor(path)
      ?.routes.map((r) => r.method)
      .sort() ?? []
  );
}

/** The route serving this request; HEAD is served by the GET route, as Express does. */
export function routeFor(method: string | undefined, path: string): Route | undefined {
  return routeIn(patternFor(path), method);
}

function routeIn(pattern: PathPattern | undefined, method: string | undefined): Route | undefined {
  const wanted = method === 'HEAD' ? 'GET' : method;
  return pattern?.routes.find((r) => r.method === wanted);
}

/**
 * How the overload guard treats an HTTP request: its route's kind; a request no route serves (it
 * gets 404/405) counts as a read, the cheapest kind to refuse.
 */
export function requestKind(method: string | undefined, path: string): RequestKind | undefined {
  return matchRequest(method, path).kind;
}

/** A request's route template and shed kind, from one match of its path. */
export function matchRequest(
  method: string | undefined,
  path: string,
): { template: string | undefined; kind: RequestKind | undefined } {
  const pattern = patternFor(path);
  if (!pattern) return { template: undefined, kind: path.startsWith('/v1/') ? 'read' : undefined };
  const route = routeIn(pattern, method);
  return { template: pattern.template, kind: route ? route.kind : 'read' };
}

/** The shed kind of each order.v1 gRPC method, from the same table. */
export const GRPC_KINDS: Readonly<Record<string, RequestKind>> = Object.fromEntries(
  ROUTES.flatMap((r) => (r.grpcMethod && r.kind ? [[r.grpcMethod, r.kind] as const] : [])),
);
