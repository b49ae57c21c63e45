/** One line of the verdict table. A failed required check fails the drill; advisory ones only warn. */
export interface Check {
  readonly name: string;
  readonly status: 'pass' | 'fail' | 'skip';
  readonly required: boolean;
  /** What was measured, in words a debrief can quote. */
  readonly detail: string;
}

export interface Verdict {
  readonly passed: boolean;
  readonly label: 'PASS' | 'FAIL';
  /** Why it failed (each failed required check), or why it passed. */
  readonly reasons: readonly string[];
  readonly warnings: readonly string[];
}

export const pass = (name: string, detail: string, required = true): Check => ({
  name,
  status: 'pass',
  required,
  detail,
});
export const fail = (name: string, detail: string, required = true): Check => ({
  name,
  status: 'fail',
  required,
  detail,
});
export const skip = (name: string, detail: string, required = true): Check => ({
  name,
  status: 'skip',
  required,
  detail,
});
export const check = (name: string, ok: boolean, detail: string, required = true): Check =>
  ok ? pass(name, detail, required) : fail(name, detail, required);

/**
 * PASS only when no required check failed and at least one required check passed (a drill that
 * proved nothing is not a pass).
 */
export function decideVerdict(checks: readonly Check[]): Verdict {
  const failed = checks.filter((c) => c.required && c.status === 'fail');
  const warnings = checks
    .filter((c) => (!c.required && c.status === 'fail') || (c.required && c.status === 'skip'))
    .map((c) => `${c.name}: ${c.detail}`);
  if (failed.length > 0) {
    return {
      passed: false,
      label: 'FAIL',
      reasons: failed.map((c) => `${c.name}: ${c.detail}`),
      warnings,
    };
  }
  if (!checks.some((c) => c.required && c.status === 'pass')) {
    return {
      passed: false,
      label: 'FAIL',
      reasons: ['no required check ran: the drill proved nothing'],
      warnings,
    };
  }
  return {
    passed: true,
    label: 'PASS',
    reasons: [`${checks.filter((c) => c.status === 'pass').length} checks passed`],
    warnings,
  };
}
