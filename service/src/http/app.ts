import express, {
  type ErrorRequestHandler,
  type NextFunction,
  type Request,
  type RequestHandler,
  type Response,
} from 'express';
import { DomainError, ValidationError } from '../orders/errors';
import type { OrderUseCases } from '../orders/useCases';
import type { Logger } from '../telemetry/logger';
import { problemForError } from './errorMapping';
import { problem, sendProblem } from './problem';
import { operationValidator } from './requestValidation';
import { allowedMethods, ROUTES } from './routes';

export interface HttpAppOptions {
  readonly orders: OrderUseCases;
  readonly logger: Logger;
  readonly bodyLimitBytes: number;
  /** Middleware run before the routes (metrics, load shedding); order is kept. */
  readonly beforeRoutes?: readonly RequestHandler[];
}

export function createHttpApp(options: HttpAppOptions): express.Express {
  const { orders, logger } = options;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');

  for (const mw of options.beforeRoutes ?? []) app.use(mw);

  const jsonBody = express.json({ limit: options.bodyLimitBytes, strict: false, type: () => true });
  for (const route of ROUTES) {
    const handlers: RequestHandler[] = route.jsonBody ? [requireJson, jsonBody] : [];
    if (route.operationId) handlers.push(validateAgainst(route.operationId));
    handlers.push(async (req, res) => route.handle(orders, req, res));
    if (route.method === 'GET') app.get(route.template, ...handlers);
    else app.post(route.template, ...handlers);
  }

  app.use(notFoundOrMethodNotAllowed);
  app.use(errorHandler(logger));
  return app;
}

/** Path, query and body against the operation's schemas in the OpenAPI document; coerced in place. */
function validateAgainst(operationId: string): RequestHandler {
  const validate = operationValidator(operationId);
  return (req, _res, next) => {
    const query = { ...(req.query as Record<string, unknown>) };
    validate({ path: req.params, query, body: req.body as unknown });
    // Express 5 makes req.query a getter: keep the coerced copy (e.g. limit as a number) instead.
    Object.defineProperty(req, 'query', { value: query, writable: true, configurable: true });
    next();
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
  const allow = allowedMethods(req.path);
  if (allow.length > 0) {
    sendProblem(
      res,
      problem(
        405,
        'method-not-allowed',
        'Method not allowed',
        `${req.method} is not allowed on ${req.path}.`,
      ),
      { Allow: allow.join(', ') },
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
