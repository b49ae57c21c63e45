/** Port plan of one lab: the defaults of every component shifted by one offset, so several labs coexist. */

export const DEFAULT_INFRA_PORTS = {
  postgres: 25432,
  kafka: 29092,
  kafkaController: 29093,
  prometheus: 29090,
  /** Jaeger v2: OTLP in (gRPC, HTTP), query API/UI, query gRPC, health, its own metrics. */
  jaegerOtlpGrpc: 24317,
  jaegerOtlpHttp: 24318,
  jaegerQuery: 26686,
  jaegerQueryGrpc: 26685,
  jaegerHealth: 23133,
  jaegerMetrics: 28888,
} as const;

export interface JaegerPorts {
  readonly otlpGrpc: number;
  readonly otlpHttp: number;
  readonly query: number;
  readonly queryGrpc: number;
  readonly health: number;
  readonly metrics: number;
}

/**
 * Base ports of the first replica of each service role; replica i adds i to http/grpc and 10*i to
 * admin. Everything stays within +30 of the defaults so labs 100 ports apart never collide.
 * gRPC is 21051, not the customary 50051 (which compose and the service's own default keep):
 * 50051 + any offset lies in the kernel's ephemeral range (32768–60999), where the load generator's
 * or a Kafka client's outgoing connection can hold the port for as long as it stays open and a
 * replica then cannot start. Every native port stays below that range.
 */
export const DEFAULT_ROLE_PORTS: Record<ServiceRole, { http: number; grpc: number; admin: number }> = {
  api: { http: 8080, grpc: 21051, admin: 9464 },
  relay: { http: 8085, grpc: 21056, admin: 9465 },
  worker: { http: 8090, grpc: 21061, admin: 9466 },
};

export const SERVICE_ROLES = ['api', 'relay', 'worker'] as const;
export type ServiceRole = (typeof SERVICE_ROLES)[number];

export interface ServiceSpec {
  /** Component name, e.g. `api` or `api-2` when replicas are asked for. */
  readonly name: string;
  readonly role: ServiceRole;
  /** 0-based replica index within its role. */
  readonly replica: number;
}

export interface ServicePorts {
  readonly http: number;
  readonly grpc: number;
  readonly admin: number;
}

export interface PortPlan {
  readonly offset: number;
  readonly postgres: number;
  readonly kafka: number;
  readonly kafkaController: number;
  readonly prometheus: number;
  readonly jaeger: JaegerPorts;
  readonly services: Record<string, ServicePorts>;
}

const MAX_REPLICAS = 4;

/**
 * Parses a service selection such as `api`, `api*2,relay,worker`. One replica keeps the role's
 * name (`api`); several are numbered (`api-1`, `api-2`).
 */
export function parseServiceSpecs(text: string): ServiceSpec[] {
  const specs: ServiceSpec[] = [];
  const seen = new Set<string>();
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const match = /^([a-z]+)(?:\*(\d+))?$/.exec(part);
    if (!match) throw new Error(`bad service "${part}": use role or role*count, e.g. api*2`);
    const role = match[1] as ServiceRole;
    if (!SERVICE_ROLES.includes(role)) {
      throw new Error(`unknown service role "${role}": choose from ${SERVICE_ROLES.join(', ')}`);
    }
    if (seen.has(role)) throw new Error(`service role "${role}" named twice`);
    seen.add(role);
    const count = match[2] === undefined ? 1 : Number(match[2]);
    if (count < 1 || count > MAX_REPLICAS) throw new Error(`replicas of ${role} must be 1..${MAX_REPLICAS}`);
    for (let i = 0; i < count; i++) {
      specs.push({ name: count === 1 ? role : `${role}-${i + 1}`, role, replica: i });
    }
  }
  return specs;
}

/**
 * Ports that fetch (undici, browsers) refuses to connect to ("bad port"), from the Fetch standard's
 * port blocking list: a lab port there would make every HTTP client test fail.
 */
export const FETCH_BLOCKED_PORTS: ReadonlySet<number> = new Set([
  1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103, 104,
  109, 110, 111, 113, 115, 117, 119, 123, 135, 137, 139, 143, 161, 179, 389, 427, 465, 512, 513, 514, 515,
  526, 530, 531, 532, 540, 548, 554, 556, 563, 587, 601, 636, 989, 990, 993, 995, 1719, 1720, 1723, 2049,
  3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080,
]);

export function planPorts(offset: number, services: readonly ServiceSpec[]): PortPlan {
  if (!Number.isInteger(offset) || offset < 0)
    throw new Error(`port offset must be a whole number >= 0, got ${offset}`);
  const shift = (port: number): number => {
    const shifted = port + offset;
    if (shifted > 65535) throw new Error(`port offset ${offset} pushes port ${port} past 65535`);
    if (FETCH_BLOCKED_PORTS.has(shifted))
      throw new Error(
        `port offset ${offset} puts port ${port} on ${shifted}, which fetch refuses to use (a "bad port"): pick another offset`,
      );
    return shifted;
  };
  const servicePorts: Record<string, ServicePorts> = {};
  for (const spec of services) {
    const base = DEFAULT_ROLE_PORTS[spec.role];
    servicePorts[spec.name] = {
      http: shift(base.http + spec.replica),
      grpc: shift(base.grpc + spec.replica),
      admin: shift(base.admin + 10 * spec.replica),
    };
  }
  return {
    offset,
    postgres: shift(DEFAULT_INFRA_PORTS.postgres),
    kafka: shift(DEFAULT_INFRA_PORTS.kafka),
    kafkaController: shift(DEFAULT_INFRA_PORTS.kafkaController),
    prometheus: shift(DEFAULT_INFRA_PORTS.prometheus),
    jaeger: {
      otlpGrpc: shift(DEFAULT_INFRA_PORTS.jaegerOtlpGrpc),
      otlpHttp: shift(DEFAULT_INFRA_PORTS.jaegerOtlpHttp),
      query: shift(DEFAULT_INFRA_PORTS.jaegerQuery),
      queryGrpc: shift(DEFAULT_INFRA_PORTS.jaegerQueryGrpc),
      health: shift(DEFAULT_INFRA_PORTS.jaegerHealth),
      metrics: shift(DEFAULT_INFRA_PORTS.jaegerMetrics),
    },
    services: servicePorts,
  };
}

/** Every port of the plan with the component that owns it, for "port taken" and "port left open" checks. */
export function portsByComponent(plan: PortPlan): { component: string; port: number }[] {
  const list = [
    { component: 'postgres', port: plan.postgres },
    { component: 'kafka', port: plan.kafka },
    { component: 'kafka', port: plan.kafkaController },
    { component: 'prometheus', port: plan.prometheus },
    ...Object.values<number>({ ...plan.jaeger }).map((port) => ({ component: 'jaeger', port })),
  ];
  for (const [name, ports] of Object.entries(plan.services)) {
    list.push(
      { component: name, port: ports.http },
      { component: name, port: ports.grpc },
      { component: name, port: ports.admin },
    );
  }
  return list;
}
