import { Lab } from '../../../lab/src/lab';

/**
 * The slice of the native lab runtime (lab/src/lab.ts) the drills use. Kept in one place so the
 * wiring to the lab is one file.
 */
export interface LabConnectionLike {
  readonly dir: string;
  readonly postgres: { url: string; port: number; adminUrl: string };
  readonly kafka: { brokers: string[] };
  readonly prometheus: { url: string };
  readonly jaeger: { queryUrl: string; otlpHttpUrl: string };
  readonly services: Record<string, { httpUrl: string; grpcAddress: string; adminUrl: string; pid?: number }>;
}

export interface LabLike {
  readonly dir: string;
  up(components?: readonly string[]): Promise<{ started: string[] }>;
  down(): Promise<unknown>;
  /** `env` adds to a service's environment for this start only. */
  start(name: string, options?: { readonly env?: Readonly<Record<string, string>> }): Promise<boolean>;
  stop(name: string): Promise<boolean>;
  kill(name: string): Promise<boolean>;
  pause(name: string): Promise<boolean>;
  resume(name: string): Promise<boolean>;
  isRunning(name: string): boolean;
  /** Every component with its state (running, paused, stopped). */
  status(): readonly { readonly name: string; readonly state: 'running' | 'paused' | 'stopped' }[];
  connection(): LabConnectionLike;
}

export interface LabOpenOptions {
  readonly dir: string;
  readonly portOffset: number;
  readonly services: string;
  readonly env: Record<string, string | undefined>;
  readonly log: (line: string) => void;
}

export const LAB_INFRA = ['postgres', 'kafka', 'prometheus', 'jaeger'] as const;

/** Opens (does not start) the native lab in `dir`. */
export function openLab(options: LabOpenOptions): LabLike {
  return new Lab(options);
}
