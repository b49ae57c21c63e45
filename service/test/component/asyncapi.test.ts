import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { DiagnosticSeverity, Parser } from '@asyncapi/parser';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { parse as parseYaml } from 'yaml';
import { DLQ_HEADERS, ENVELOPE_SCHEMA } from '../../src/pipeline/envelope';
import { kafkaBrokers, uniqueTopic } from '../support/pipelineLab';

let brokers: string[] = [];
before(async () => {
  brokers = await kafkaBrokers();
});
import { postJson, startTestService, validOrder } from '../support/serviceHarness';
import { eventually, readTopic } from '../support/topicReader';

const DOCUMENT_PATH = path.resolve(__dirname, '../../../../service/api/asyncapi.yaml');

interface RawDocument {
  channels: Record<string, { address: string }>;
  components: { schemas: Record<string, object> };
}

function loadDocument(): { text: string; raw: RawDocument } {
  const text = readFileSync(DOCUMENT_PATH, 'utf8');
  return { text, raw: parseYaml(text) as RawDocument };
}

function compile(schema: object): ReturnType<Ajv['compile']> {
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  return ajv.compile(schema);
}

describe('AsyncAPI document (service/api/asyncapi.yaml)', () => {
  it('is a valid AsyncAPI 3.0 document naming both topics', async () => {
    const { text } = loadDocument();
    const { document, diagnostics } = await new Parser().parse(text);
    // The diagnostics and the re-exported enum come from two copies of @stoplight/types (same values).
    // eslint-disable-next-line @typescript-eslint/no-unsafe-enum-comparison
    const errors = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error);
    assert.deepEqual(
      errors.map((e) => `${e.path.join('.')}: ${e.message}`),
      [],
    );
    assert.ok(document);
    assert.equal(document.version(), '3.0.0');
    const addresses = document
      .channels()
      .all()
      .map((c) => c.address());
    assert.deepEqual(addresses.sort(), ['orders.v1', 'orders.v1.dlq']);
  });

  it('documents exactly the envelope schema the worker validates with', () => {
    const { raw } = loadDocument();
    assert.deepEqual(
      raw.components.schemas['OrderEventEnvelope'],
      JSON.parse(JSON.stringify(ENVELOPE_SCHEMA)),
    );
    const dlqHeaders = raw.components.schemas['DeadLetterHeaders'] as { properties: Record<string, unknown> };
    assert.deepEqual(Object.keys(dlqHeaders.properties).sort(), Object.values(DLQ_HEADERS).sort());
  });

  it('describes the messages the service really publishes (envelope and headers)', async (t) => {
    const { raw } = loadDocument();
    const envelope = compile(raw.components.schemas['OrderEventEnvelope']!);
    const headers = compile(raw.components.schemas['OrderEventHeaders']!);
    const topic = uniqueTopic('asyncapi');
    const svc = await startTestService({
      ROLES: 'api,relay',
      KAFKA_BROKERS: brokers.join(','),
      ORDERS_TOPIC: topic,
      DLQ_TOPIC: `${topic}.dlq`,
      RELAY_POLL_MS: '100',
    });
    t.after(() => svc.close());
    const created = await postJson(`${svc.baseUrl}/v1/orders`, validOrder());
    const other = await postJson(`${svc.baseUrl}/v1/orders`, validOrder({ currency: 'JPY' }));
    const cancelId = (other.json as { id: string }).id;
    const cancelled = await postJson(`${svc.baseUrl}/v1/orders/${cancelId}/cancel`, {});
    assert.equal(created.status, 201);
    assert.equal(cancelled.status, 200);
    await eventually('outbox published', async () => {
      const rows = await svc.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL',
      );
      return rows[0]!.n === 0 ? true : undefined;
    });
    const messages = await readTopic(brokers, topic, (m) => m.length >= 3);
    assert.equal(messages.length, 3);
    const types = [];
    for (const m of messages) {
      const value: unknown = JSON.parse(m.value!.toString());
      assert.ok(envelope(value), JSON.stringify(envelope.errors));
      assert.ok(headers(m.headers), JSON.stringify(headers.errors));
      assert.equal(m.key, (value as { subject: string }).subject, 'key is the order id');
      types.push((value as { type: string }).type);
    }
    assert.deepEqual(types.sort(), ['order.cancelled.v1', 'order.created.v1', 'order.created.v1']);
    // The schema is not vacuous: a message missing its subject is refused.
    const broken = JSON.parse(messages[0]!.value!.toString()) as Record<string, unknown>;
    delete broken['subject'];
    assert.equal(envelope(broken), false);
  });
});
