import { blueGreen } from './blueGreen';
import { brokerLoss } from './brokerLoss';
import { canary } from './canary';
import { dbLoss } from './dbLoss';
import type { Drill } from './drill';
import { overload } from './overload';
import { poisonMessage } from './poisonMessage';
import { sigterm } from './sigterm';
import { slowDependency } from './slowDependency';
import { workerCrash } from './workerCrash';

/** Every drill, in the order the docs teach them. */
export const DRILLS: readonly Drill[] = [
  sigterm,
  brokerLoss,
  dbLoss,
  overload,
  workerCrash,
  poisonMessage,
  slowDependency,
  canary,
  blueGreen,
];

export function findDrill(name: string): Drill | undefined {
  return DRILLS.find((d) => d.name === name);
}
