import type { PrometheusClient } from '../audit/prometheus';

/** What a drill needs running before the load starts. */
export interface TargetSetup {
  /** API replicas run by the target (0 when the drill only uses its owned API). */
  readonly apiReplicas: number;
  /** Put a load balancer (nginx natively, the compose LB) in front of the API replicas. */
  readonly loadBalancer: boolean;
  /**
   * The drill changes the balancer's weights while load runs (release drills). Natively that is an
   * nginx reload, and a reload closes idle client keep-alive connections: a request racing that
   * close is reset (measured: 2 ECONNRESET in one blue-green switch). Such a balancer serves each
   * client connection one request (`keepalive_timeout 0`), so a switch cuts nothing.
   */
  readonly balancerReconfigured?: boolean;
  /** Run the relay and the worker (the event pipeline). */
  readonly pipeline: boolean;
  /**
   * Run one API process owned by the drill runner (natively: a child process), so its exit code and
   * exit time are observable, optionally with its database connection through the latency proxy.
   */
  readonly ownedApi?: { readonly viaLatencyProxy: boolean };
  /** Extra service environment (shedding bounds, timeouts) for this drill. */
  readonly serviceEnv: Readonly<Record<string, string>>;
}

export interface TargetConnection {
  /** Where the load goes: the load balancer or the single API replica (absent with 0 replicas). */
  readonly apiUrl?: string;
  /** The drill runner's own API process, when the setup asked for one. */
  readonly ownedApiUrl?: string;
  /** Admin base URL (/readyz, /metrics) per API component. */
  readonly apiAdminUrls: Readonly<Record<string, string>>;
  readonly postgresUrl: string;
  readonly kafkaBrokers: readonly string[];
  /** Host names the broker advertises that this machine cannot resolve → addresses (compose network). */
  readonly kafkaHostAliases?: Readonly<Record<string, string>>;
  readonly prometheusUrl: string;
  /** Jaeger's query API, when the target runs Jaeger (the trace audit reads it). */
  readonly jaegerUrl?: string;
  readonly grafanaUrl?: string;
  readonly topic: string;
  readonly dlqTopic: string;
}

export interface TerminationResult {
  /** Exit code, or null when the process was killed by a signal or the exit code is unknown. */
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly seconds: number;
}

/**
 * Release drills (canary, blue-green): API replicas run as named versions behind a balancer whose
 * traffic shares the drill sets. A target without it cannot run those drills.
 */
export interface ReleaseControl {
  /**
   * (Re)starts an API replica with extra environment on top of the drill's (SERVICE_VERSION,
   * REGRESSION_*), waits until /readyz answers 200 and returns its URLs. It gets traffic through the
   * balancer only once `setWeights` gives it a share.
   */
  startRelease(
    component: string,
    env: Readonly<Record<string, string>>,
  ): Promise<{ readonly httpUrl: string; readonly adminUrl: string }>;
  /**
   * Relative shares of the balancer's new requests per API component, applied at once (0 = none;
   * the replica keeps running). Requests in flight finish where they are.
   */
  setWeights(weights: Readonly<Record<string, number>>): Promise<void>;
  /** API components that can hold a release (e.g. api-1, api-2). */
  releaseSlots(): readonly string[];
}

/**
 * Everything a drill does to the system goes through here, so one drill runs against the native
 * lab or a compose stack alike. Component names: postgres, kafka, prometheus, api (or api-1, api-2),
 * relay, worker.
 */
export interface Target {
  readonly kind: 'native' | 'compose';
  /** Present when the target can run release drills (natively: lab replicas behind nginx). */
  readonly release?: ReleaseControl;
  /** Starts what the setup needs and waits until it answers. */
  prepare(setup: TargetSetup): Promise<void>;
  connection(): TargetConnection;
  /** Names of the API replicas currently configured (e.g. ['api-1', 'api-2']). */
  apiComponents(): string[];
  start(component: string): Promise<void>;
  /** Graceful stop (SIGTERM, then kill after a timeout). */
  stop(component: string): Promise<void>;
  kill(component: string): Promise<void>;
  pause(component: string): Promise<void>;
  resume(component: string): Promise<void>;
  /** SIGTERM the owned API and wait for its exit (sigterm drill). */
  terminateOwnedApi(timeoutMs: number): Promise<TerminationResult>;
  /** Sets the replica count of the API (scale). */
  scaleApi(replicas: number): Promise<void>;
  /** Restarts API replicas one at a time, waiting for readiness before the next. */
  rollingRestartApi(onStep: (line: string) => void): Promise<void>;
  /** Latency added between the service and PostgreSQL (0 removes it). */
  setDatabaseLatency(ms: number): Promise<void>;
  prometheus(): PrometheusClient;
  /**
   * Host process id of a component's main process (natively the child process; compose: the
   * container's main process, below its docker-init), undefined when it is not running. A restart
   * shows as a new id.
   */
  pidOf(component: string): Promise<number | undefined>;
  /** Stops whatever prepare() started that the user did not already have running. */
  close(): Promise<void>;
}
