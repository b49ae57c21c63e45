import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import openapi from '../../api/openapi.json';
import { ValidationError } from '../../src/orders/errors';
import { operationValidator } from '../../src/http/requestValidation';
import {
  allowedMethods,
  GRPC_KINDS,
  pathOf,
  requestKind,
  routeFor,
  ROUTES,
  routeTemplateFor,
} from '../../src/http/routes';

const ID = '01a24e98-23c8-76d5-a042-f15460a465d8';

describe('route table', () => {
  it('labels paths with their template, with or without a trailing slash or query string', () => {
    assert.equal(routeTemplateFor(pathOf('/v1/orders?customerId=c')), '/v1/orders');
    assert.equal(routeTemplateFor('/v1/orders/'), '/v1/orders');
    assert.equal(routeTemplateFor(`/v1/orders/${ID}`), '/v1/orders/:id');
    assert.equal(routeTemplateFor(`/v1/orders/${ID}/cancel`), '/v1/orders/:id/cancel');
    assert.equal(routeTemplateFor('/v1/orders/a/b/c'), undefined);
    assert.equal(routeTemplateFor('/openapi.json'), '/openapi.json');
    assert.equal(routeTemplateFor('/openapiXjson'), undefined, 'the dot is literal');
  });

  it('allows per path exactly the methods its routes have; HEAD is served by GET', () => {
    assert.deepEqual(allowedMethods('/v1/orders'), ['GET', 'POST']);
    assert.deepEqual(allowedMethods(`/v1/orders/${ID}/cancel`), ['POST']);
    assert.deepEqual(allowedMethods('/nowhere'), []);
    assert.equal(routeFor('HEAD', `/v1/orders/${ID}`)?.method, 'GET');
    assert.equal(routeFor('DELETE', `/v1/orders/${ID}`), undefined);
  });

  it('gives the shed kind of each request; the document and unknown paths outside /v1 are never shed', () => {
    assert.equal(requestKind('POST', '/v1/orders'), 'create');
    assert.equal(requestKind('GET', '/v1/orders'), 'read');
    assert.equal(requestKind('POST', `/v1/orders/${ID}/cancel`), 'write');
    assert.equal(requestKind('DELETE', `/v1/orders/${ID}`), 'read', 'a 405 is refused as cheaply as a read');
    assert.equal(requestKind('GET', '/v1/unknown'), 'read');
    assert.equal(requestKind('GET', '/openapi.json'), undefined);
    assert.equal(requestKind('GET', '/metrics'), undefined);
  });

  it('gRPC methods are shed as the HTTP routes of the same use case', () => {
    assert.deepEqual(GRPC_KINDS, {
      CreateOrder: 'create',
      ListOrders: 'read',
      GetOrder: 'read',
      CancelOrder: 'write',
    });
  });

  it('routes and the OpenAPI document name the same operations (no drift either way)', () => {
    const documented = Object.entries(openapi.paths).flatMap(([path, item]) =>
      Object.entries(item as Record<string, { operationId?: string }>).map(
        ([method, op]) => `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')} ${op.operationId}`,
      ),
    );
    const routed = ROUTES.filter((r) => r.operationId).map(
      (r) => `${r.method} ${r.template} ${r.operationId}`,
    );
    assert.deepEqual(routed.sort(), documented.sort());
  });
});

describe('parameters validated against the OpenAPI document', () => {
  const problems = (fn: () => void) => {
    try {
      fn();
    } catch (err) {
      assert.ok(err instanceof ValidationError);
      return err.problems.map((p) => `${p.pointer}: ${p.detail}`);
    }
    return [];
  };
  const list = operationValidator('listOrders');

  it('coerces the list query in place and accepts it', () => {
    const query: Record<string, unknown> = { customerId: 'c-1', limit: '5' };
    assert.deepEqual(
      problems(() => list({ path: {}, query, body: undefined })),
      [],
    );
    assert.equal(query['limit'], 5);
  });

  it('names every bad list parameter: unknown, repeated, out of range, missing', () => {
    const found = problems(() =>
      list({ path: {}, query: { limit: '0', sort: 'desc', cursor: ['a', 'b'] }, body: undefined }),
    );
    assert.ok(
      found.some((p) => p.startsWith('customerId: is required')),
      found.join('; '),
    );
    assert.ok(found.includes("sort: unknown query parameter 'sort'"), found.join('; '));
    assert.ok(found.includes('cursor: must be given once'), found.join('; '));
    assert.ok(
      found.some((p) => p.startsWith('limit: ')),
      found.join('; '),
    );
    assert.ok(
      problems(() => list({ path: {}, query: { customerId: 'c', limit: 'ten' }, body: undefined })).some(
        (p) => p.startsWith('limit: must be integer'),
      ),
    );
  });

  it('checks path parameters (the order id is a UUID) and the create body', () => {
    const get = operationValidator('getOrder');
    assert.deepEqual(
      problems(() => get({ path: { id: ID }, query: {}, body: undefined })),
      [],
    );
    assert.ok(
      problems(() => get({ path: { id: 'nope' }, query: {}, body: undefined }))[0]?.startsWith('id: '),
    );
    const create = operationValidator('createOrder');
    assert.ok(
      problems(() =>
        create({ path: {}, query: {}, body: { customerId: 'c', currency: 'EUR', items: [], x: 1 } }),
      ).includes("/x: unknown field 'x'"),
    );
  });
});
