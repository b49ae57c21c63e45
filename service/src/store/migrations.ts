/**
 * Versioned schema migrations, applied in order by `migrate()`. Never edit a released entry:
 * add a new one. Kept in TypeScript so the compiled service carries them without extra files.
 */
/** NOTIFY channel raised when outbox rows are inserted (migration 2); relays LISTEN on it. */
export const OUTBOX_CHANNEL = 'outbox_inserted';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'orders_items_outbox_idempotency',
    sql: `
CREATE TABLE orders (
  id           uuid PRIMARY KEY,
  seq          bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  customer_id  text NOT NULL,
  currency     char(3) NOT NULL,
  total_cents  bigint NOT NULL CHECK (total_cents >= 0),
  status       text NOT NULL CHECK (status IN ('pending', 'confirmed', 'cancelled', 'rejected')),
  version      integer NOT NULL DEFAULT 1 CHECK (version >= 1),
  created_at   timestamptz NOT NULL,
  updated_at   timestamptz NOT NULL
);
CREATE INDEX orders_customer_seq_idx ON orders (customer_id, seq DESC);

CREATE TABLE order_items (
  order_id          uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
  line              smallint NOT NULL CHECK (line >= 0),
  sku               text NOT NULL,
  quantity          integer NOT NULL CHECK (quantity BETWEEN 1 AND 10000),
  unit_price_cents  bigint NOT NULL CHECK (unit_price_cents >= 0),
  PRIMARY KEY (order_id, line)
);

-- Transactional outbox: written in the same transaction as the order, published by the relay.
CREATE TABLE outbox (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event_id      uuid NOT NULL UNIQUE,
  aggregate_id  uuid NOT NULL,
  event_type    text NOT NULL,
  payload       jsonb NOT NULL,
  headers       jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at    timestamptz NOT NULL DEFAULT now(),
  published_at  timestamptz,
  attempts      integer NOT NULL DEFAULT 0,
  last_error    text
);
CREATE INDEX outbox_unpublished_idx ON outbox (id) WHERE published_at IS NULL;

-- The key is claimed before the order row exists, hence the deferred foreign key.
CREATE TABLE idempotency_keys (
  key           text PRIMARY KEY,
  request_hash  text NOT NULL,
  order_id      uuid NOT NULL REFERENCES orders (id) DEFERRABLE INITIALLY DEFERRED,
  created_at    timestamptz NOT NULL DEFAULT now()
);
`,
  },
  {
    version: 2,
    name: 'processed_events_outbox_notify',
    sql: `
-- Events the fulfilment worker has applied, written in the same transaction as the effect:
-- a redelivered event finds its id here and changes nothing.
CREATE TABLE processed_events (
  event_id      uuid PRIMARY KEY,
  event_type    text NOT NULL,
  order_id      uuid,
  outcome       text NOT NULL,
  processed_at  timestamptz NOT NULL DEFAULT now()
);

-- The relay claims only the oldest unpublished row of each order; this makes that check an index probe.
CREATE INDEX outbox_unpublished_aggregate_idx ON outbox (aggregate_id, id) WHERE published_at IS NULL;

-- Wake relays as soon as a row commits (NOTIFY is delivered at commit; repeats in one transaction fold).
CREATE FUNCTION outbox_notify_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('${OUTBOX_CHANNEL}', '');
  RETURN NULL;
END $$;
CREATE TRIGGER outbox_inserted AFTER INSERT ON outbox
  FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify_inserted();
`,
  },
];
