/** Every scenario file under loadtest/k6, with what it runs; the unit test checks files against it. */
import type { Protocol, ScenarioKind } from './names.ts';

export interface ScenarioFile {
  readonly file: string;
  readonly protocol: Protocol;
  readonly kind: ScenarioKind;
  readonly purpose: string;
}

const PURPOSE: Readonly<Record<ScenarioKind, string>> = {
  smoke: 'every endpoint once per iteration, 1 VU: is the build sane before any load?',
  load: 'constant arrival rate at RATE for LOAD_DURATION: does the release meet the SLOs at expected traffic?',
  stress: 'ramping arrival rate until an SLO threshold aborts the run: where is the breakpoint?',
  spike:
    'sudden jump to RATE × SPIKE_FACTOR and back: does shedding protect accepted requests, and do we recover?',
  soak: 'constant arrival rate at SOAK_RATE for SOAK_DURATION: leaks, backlog drift, slow degradation?',
};

export const KINDS: readonly ScenarioKind[] = ['smoke', 'load', 'stress', 'spike', 'soak'];
export const PROTOCOLS: readonly Protocol[] = ['http', 'grpc'];

export const SCENARIO_FILES: readonly ScenarioFile[] = PROTOCOLS.flatMap((protocol) =>
  KINDS.map((kind) => ({ file: `${protocol}/${kind}.ts`, protocol, kind, purpose: PURPOSE[kind] })),
);
