import { INFRA_COMPONENTS, Lab, type LabOptions } from '../../../lab/src/lab';

/**
 * The slice of the native lab runtime (lab/src/lab.ts) the drills use, named from the lab's own
 * types so the two cannot drift. Kept in one place so the wiring to the lab is one file.
 */
export type LabLike = Pick<
  Lab,
  | 'dir'
  | 'up'
  | 'down'
  | 'start'
  | 'stop'
  | 'kill'
  | 'pause'
  | 'resume'
  | 'isRunning'
  | 'status'
  | 'connection'
>;

export type LabOpenOptions = Required<Pick<LabOptions, 'dir' | 'portOffset' | 'services' | 'env' | 'log'>>;

export const LAB_INFRA = INFRA_COMPONENTS;

/** Opens (does not start) the native lab in `dir`. */
export function openLab(options: LabOpenOptions): LabLike {
  return new Lab(options);
}
