import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type CanaryPolicy,
  detectionBudgetS,
  earliestPageS,
  judgeCanary,
  nextShare,
  parseSharePlan,
  type VersionWindow,
} from '../../src/release/canaryAnalysis';

const policy: CanaryPolicy = {
  minRequests: 20,
  maxErrorRatioIncrease: 0.02,
  maxP99Factor: 2,
  p99SlackMs: 100,
  healthyJudgementsToPromote: 2,
};
const baseline: VersionWindow = { requests: 400, errors: 0, p99Ms: 30 };
const healthyCanary: VersionWindow = { requests: 40, errors: 0, p99Ms: 45 };

describe('canary analysis', () => {
  it('holds while either side has fewer requests than the minimum, however bad the canary looks', () => {
    const d = judgeCanary(
      { canary: { requests: 19, errors: 19, p99Ms: 900 }, baseline, healthyStreak: 1 },
      policy,
    );
    assert.equal(d.action, 'hold');
    assert.equal(d.action === 'hold' && d.reason, 'too few requests');
    assert.match(d.detail, /canary 19\/19 errors .* each needs ≥ 20 requests/);
    const noBaseline = judgeCanary(
      { canary: healthyCanary, baseline: { ...baseline, requests: 5 }, healthyStreak: 0 },
      policy,
    );
    assert.equal(noBaseline.action === 'hold' && noBaseline.reason, 'too few requests');
  });

  it('holds on the first healthy judgement and promotes on the second in a row', () => {
    const first = judgeCanary({ canary: healthyCanary, baseline, healthyStreak: 0 }, policy);
    assert.equal(first.action === 'hold' && first.reason, 'healthy');
    assert.match(first.detail, /healthy 1 of 2/);
    const second = judgeCanary({ canary: healthyCanary, baseline, healthyStreak: 1 }, policy);
    assert.equal(second.action, 'promote');
  });

  it('rolls back at once when the error ratio exceeds the baseline by more than the allowance', () => {
    // 3/40 = 7.5 % against 0 %: beyond 2 points, even with a healthy streak behind it.
    const d = judgeCanary(
      { canary: { requests: 40, errors: 3, p99Ms: 40 }, baseline, healthyStreak: 1 },
      policy,
    );
    assert.equal(d.action, 'rollback');
    assert.deepEqual(d.action === 'rollback' && d.because, ['error ratio']);
    assert.match(d.detail, /canary 3\/40 errors \(7\.5 %\)/);
  });

  it('tolerates the baseline own error ratio plus the allowance', () => {
    // Baseline 4 %, canary 5 %: within 2 points of it.
    const d = judgeCanary(
      {
        canary: { requests: 100, errors: 5, p99Ms: 40 },
        baseline: { requests: 500, errors: 20, p99Ms: 35 },
        healthyStreak: 0,
      },
      policy,
    );
    assert.equal(d.action, 'hold');
  });

  it('rolls back on p99 only beyond both the factor and the slack', () => {
    const slow = judgeCanary(
      { canary: { requests: 40, errors: 0, p99Ms: 290 }, baseline, healthyStreak: 0 },
      policy,
    );
    assert.deepEqual(slow.action === 'rollback' && slow.because, ['p99 latency']);
    // 120 ms is 4× a 30 ms baseline but within its 100 ms slack: one slow request of a fresh process.
    const withinSlack = judgeCanary(
      { canary: { requests: 40, errors: 0, p99Ms: 120 }, baseline, healthyStreak: 0 },
      policy,
    );
    assert.equal(withinSlack.action, 'hold');
    // Against a 200 ms baseline, 350 ms is within 2×.
    const withinFactor = judgeCanary(
      {
        canary: { requests: 40, errors: 0, p99Ms: 350 },
        baseline: { ...baseline, p99Ms: 200 },
        healthyStreak: 0,
      },
      policy,
    );
    assert.equal(withinFactor.action, 'hold');
  });

  it('names both reasons when errors and latency regress together', () => {
    const d = judgeCanary(
      { canary: { requests: 40, errors: 12, p99Ms: 300 }, baseline, healthyStreak: 0 },
      policy,
    );
    assert.deepEqual(d.action === 'rollback' && d.because, ['error ratio', 'p99 latency']);
  });
});

describe('promotion plan', () => {
  it('steps through the shares and ends at 100', () => {
    const plan = parseSharePlan('10,50,100');
    assert.deepEqual(plan, [10, 50, 100]);
    assert.equal(nextShare(plan, 10), 50);
    assert.equal(nextShare(plan, 50), 100);
    assert.equal(nextShare(plan, 100), undefined);
    assert.throws(() => nextShare(plan, 20), /share 20 % is not in the plan 10 → 50 → 100/);
  });

  it('refuses plans that do not climb to 100 in whole percents', () => {
    assert.throws(() => parseSharePlan('50,10,100'), /shares must increase/);
    assert.throws(() => parseSharePlan('10,50'), /the last share must be 100/);
    assert.throws(() => parseSharePlan('0.5,100'), /whole percents 1\.\.100/);
    assert.throws(() => parseSharePlan(''), /name at least one share/);
  });
});

describe('detection and the page', () => {
  it('states the detection budget from the minimum requests at the canary share, scrapes and judgements', () => {
    // 20 requests at 10 % of 40/s = 5 s, + 2 × 5 s scrapes + 2 × 5 s judgements.
    assert.equal(
      detectionBudgetS({ minRequests: 20, ratePerS: 40, share: 0.1, intervalS: 5, scrapeIntervalS: 5 }),
      25,
    );
    assert.throws(
      () => detectionBudgetS({ minRequests: 20, ratePerS: 0, share: 0.1, intervalS: 5, scrapeIntervalS: 5 }),
      /rate and share > 0/,
    );
  });

  it('puts the earliest fast-burn page where the 5 m ratio passes 14.4 × budget, plus its for:', () => {
    // 10 % × 30 % = 3 % overall: the 5 m ratio passes 1.44 % after 144 s, then 120 s pending.
    assert.equal(earliestPageS(0.1, 0.3), 264);
    // 10 % × 10 % = 1 % never reaches 1.44 %: the page never fires.
    assert.equal(earliestPageS(0.1, 0.1), undefined);
    assert.equal(earliestPageS(1, 1), 300 * 0.0144 + 120);
  });
});
