/**
 * Names shared by the k6 scripts, their options and the summary: custom metrics, the functions
 * scenarios execute, and the operations with their route templates / gRPC method names (the
 * `name` tag, so per-URL ids never become Prometheus labels). Pure module.
 */

export type Protocol = 'http' | 'grpc';
export type ScenarioKind = 'smoke' | 'load' | 'stress' | 'spike' | 'soak';

export const METRIC = {
  /** Rate: true for every API request that counts against availability (5xx, shed, no answer). */
  sloBadRequests: 'orderlab_slo_bad_requests',
  /** Rate: true when a probed order reached a final status within the freshness threshold. */
  freshnessWithinSlo: 'orderlab_freshness_within_slo',
  /** Trend (ms): creation response → first read showing a final status. */
  confirmationDelay: 'orderlab_confirmation_delay',
} as const;

/** Exported function names the scenarios run (`exec`); every scenario file exports all it uses. */
export const EXEC = {
  smoke: 'smokeJourney',
  writes: 'createOrders',
  reads: 'readOrders',
  freshness: 'probeFreshness',
} as const;

export type OperationName = 'createOrder' | 'getOrder' | 'listOrders' | 'cancelOrder';

export interface Operation {
  readonly http: { readonly method: 'GET' | 'POST'; readonly name: string };
  readonly grpcMethod: string;
}

export const GRPC_SERVICE = 'order.v1.OrderService';

export const OPERATIONS: Readonly<Record<OperationName, Operation>> = {
  createOrder: { http: { method: 'POST', name: '/v1/orders' }, grpcMethod: `${GRPC_SERVICE}/CreateOrder` },
  getOrder: { http: { method: 'GET', name: '/v1/orders/{id}' }, grpcMethod: `${GRPC_SERVICE}/GetOrder` },
  listOrders: { http: { method: 'GET', name: '/v1/orders' }, grpcMethod: `${GRPC_SERVICE}/ListOrders` },
  cancelOrder: {
    http: { method: 'POST', name: '/v1/orders/{id}/cancel' },
    grpcMethod: `${GRPC_SERVICE}/CancelOrder`,
  },
};

export const OPERATION_NAMES = Object.keys(OPERATIONS) as OperationName[];
