import express, {
  type ErrorRequestHandler,
  type NextFunction,
  type Request,
  type RequestHandler,
  type Response,
} from 'express';
import { DomainError, ValidationError } from '../orders/errors';
import type { Order } from '../orders/order';
import type { OrderUseCases } from '../orders/useCases';
import type { Logger } from '../telemetry/logger';
import { problemForError } from './errorMapping';
import { problem, sendProblem } from './problem';
import { assertCreateOrderBody, openApiDocument } from './requestValidation';

export interface HttpAppOptions {
  readonly orders: OrderUseCases;
  readonly logger: Logger;
  readonly bodyLimitBytes: number;
  /** Middleware run before the routes (metrics, load shedding); order is kept. */
  readonly beforeRoutes?: readonly RequestHandler[];
}

/** Routes and the methods they allow; anything else is 404 or 405 as problem+json. */
const ROUTES: readonly { pattern: RegExp; allow: string; template: string }[] = [
  { pattern: /^\/v1\/orders\/?$/, allow: 'GET, POST', template: '/v1/orders' },
  { pattern: /^\/v1\/orders\/[^/]+\/?$/, allow: 'GET', template: '/v1/orders/:id' },
  { pattern: /^\/v1\/orders\/[^/]+\/cancel\/?$/, allow: 'POST', template: '/v1/orders/:id/cancel' },
  { pattern: /^\/openapi\.json$/, allow: 'GET', template: '/openapi.json' },
];

/** The route template a path belongs to (for requests answered before routing: 405, shed). */
export function routeTemplateFor(path: string): string | undefined {
  return ROUTES.find((r) => r.pattern.test(path))?.template;
}

const LIST_QUERY_KEYS = new Set(['customerId', 'limit', 'cursor']);

export function createHttpApp(options: HttpAppOptions): express.Express {
  const { orders, logger } = options;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');

  for (const mw of options.beforeRoutes ?? []) app.use(mw);

  app.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument);
  });

  const jsonBody = express.json({ limit: options.bodyLimitBytes, strict: false, type: () => true });

  app.post('/v1/orders', requireJson, jsonBody, async (req, res) => {
    const body: unknown = req.body;
    assertCreateOrderBody(body);
    const key = req.get('Idempotency-Key');
    const { order, created } = await orders.createOrder(
      { customerId: body.customerId, currency: body.currency, items: body.items },
      key,
    );
    res.status(201).location(`/v1/orders/${order.id}`);
    if (!created) res.set('Idempotent-Replayed', 'true');
    res.json(orderJson(order));
  });

  app.get('/v1/orders', async (req, res) => {
    const query = req.query as Record<string, unknown>;
    const problems = [];
    for (const key of Object.keys(query)) {
      if (!LIST_QUERY_KEYS.has(key))
        problems.push({ pointer: key, detail: `unknown query parameter '${key}'` });
      else if (typeof query[key] !== 'string') problems.push({ pointer: key, detail: 'must be given once' });
    }
    const limitText = query['limit'];
    let limit: number | undefined;
    if (typeof limitText === 'string') {
      limit = /^\d{1,4}$/.test(limitText) ? Number(limitText) : Number.NaN;
      if (Number.isNaN(limit)) problems.push({ pointer: 'limit', detail: 'must be an integer 1..100' });
    }
    const customerId = typeof query['customerId'] === 'string' ? query['customerId'] : '';
    if (customerId === '') problems.push({ pointer: 'customerId', detail: 'is required' });
    if (problems.length > 0) throw new ValidationError(problems);
    const cursor = typeof query['cursor'] === 'string' ? query['cursor'] : undefined;
    const page = await orders.listOrders({
      customerId,
      ...(limit !== undefined ? { limit } : {}),
      ...(cursor !== undefined ? { cursor } : {}),
    });
    res.json({ orders: page.orders.map(orderJson), nextCursor: page.nextCursor });
  });

  app.get('/v1/orders/:id', async (req, res) => {
    res.json(orderJson(await orders.getOrder(String(req.params['id']))));
  });

  app.post('/v1/orders/:id/cancel', async (req, res) => {
    res.json(orderJson(await orders.cancelOrder(String(req.params['id']))));
  });

  app.use(notFoundOrMethodNotAllowed);
  app.use(errorHandler(logger));
  return app;
}

export function orderJson(order: Order): Record<string, unknown> {
  return {
    id: order.id,
    customerId: order.customerId,
    items: order.items.map((i) => ({ sku: i.sku, quantity: i.quantity, unitPriceCents: i.unitPriceCents })),
    currency: order.currency,
    totalCents: order.totalCents,
    status: order.status,
    createdAt: order.createdAt.toISOString(),
    updatedAt: order.updatedAt.toISOString(),
    version: order.version,
  };
}

/** Create requests must carry a JSON body; say which of the two is wrong before parsing. */
function requireJson(req: Request, res: Response, next: NextFunction): void {
  const length = req.get('content-length');
  const hasBody = length !== undefined ? length !== '0' : req.get('transfer-encoding') !== undefined;
  if (!hasBody) {
    next(new ValidationError([{ pointer: '/', detail: 'request body is required' }]));
    return;
  }
  if (!req.is('application/json')) {
    sendProblem(
      res,
      problem(415, 'unsupported-media-type', 'Unsupported media type', 'Send the body as application/json.'),
    );
    return;
  }
  next();
}

function notFoundOrMethodNotAllowed(req: Request, res: Response): void {
  const route = ROUTES.find((r) => r.pattern.test(req.path));
  if (route) {
    sendProblem(
      res,
      problem(
        405,
        'method-not-allowed',
        'Method not allowed',
        `${req.method} is not allowed on ${req.path}.`,
      ),
      { Allow: route.allow },
    );
    return;
  }
  sendProblem(res, problem(404, 'not-found', 'Not found', `No route for ${req.method} ${req.path}.`));
}

/** Body-parser errors carry a `type`; map them to the client's mistake they describe. */
function bodyParserProblem(err: unknown): ReturnType<typeof problem> | undefined {
  const type = (err as { type?: unknown }).type;
  switch (type) {
    case 'entity.parse.failed':
      return problem(400, 'malformed-json', 'Malformed JSON', 'The request body is not valid JSON.');
    case 'entity.too.large':
      return problem(
        413,
        'body-too-large',
        'Request body too large',
        'The request body exceeds the size limit.',
      );
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return problem(415, 'unsupported-media-type', 'Unsupported media type', 'Use UTF-8 JSON.');
    case 'request.aborted':
      return problem(400, 'request-aborted', 'Request aborted');
    default:
      return undefined;
  }
}

function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    const parserProblem = bodyParserProblem(err);
    if (parserProblem) {
      sendProblem(res, parserProblem);
      return;
    }
    const mapped = problemForError(err);
    if (!(err instanceof DomainError) || mapped.body.status >= 500) {
      logger.error('request failed', { method: req.method, path: req.path, status: mapped.body.status, err });
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendProblem(res, mapped.body, mapped.headers);
  };
}
