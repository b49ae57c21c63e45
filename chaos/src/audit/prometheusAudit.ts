import { setTimeout as sleep } from 'node:timers/promises';
import type { ExpectedAlert } from '../drills/expectations';
import { PROMQL } from '../drills/knobs';
import type { FaultWindow } from './maths';
import {
  type AlertTimeline,
  alertTimeline,
  type PrometheusClient,
  type SeriesPoint,
  sumSeries,
} from './prometheus';
import { type Check, check, skip } from './verdict';

/** Seconds of slack on top of an alert's `for`: scrape + rule evaluation + rate windows. */
export const ALERT_SLACK_S = 30;

export interface PrometheusEvidence {
  readonly outboxBacklog: SeriesPoint[];
  readonly consumerLag: SeriesPoint[];
  readonly slo: Record<string, number | null>;
  readonly alerts: AlertTimeline[];
  readonly checks: Check[];
  readonly notes: string[];
}

/**
 * Decides one expected alert from its timeline (pure): it must fire if the fault lasted long
 * enough for its `for`, and resolve if asked. Too-short faults skip rather than pass.
 */
export function alertCheck(
  expected: ExpectedAlert,
  timeline: AlertTimeline | undefined,
  rule: { forS: number } | undefined,
  longestFaultS: number,
): Check[] {
  const name = `alert ${expected.name}`;
  if (!rule)
    return [
      check(`${name} exists`, false, `no alerting rule named ${expected.name} is loaded in Prometheus`),
    ];
  const out: Check[] = [];
  if (expected.fires) {
    const needS = rule.forS + ALERT_SLACK_S;
    if (timeline?.firedAt !== undefined)
      out.push(check(`${name} fired`, true, `fired (${expected.because})`));
    else if (longestFaultS < needS)
      out.push(
        skip(
          `${name} fired`,
          `fault lasted ${longestFaultS.toFixed(0)} s, less than its for ${rule.forS} s + ${ALERT_SLACK_S} s: run longer (--duration) to see it fire${timeline?.pendingSeen ? ' (it was pending)' : ''}`,
        ),
      );
    else
      out.push(
        check(
          `${name} fired`,
          false,
          `did not fire although the fault lasted ${longestFaultS.toFixed(0)} s (${expected.because})`,
        ),
      );
  }
  if (expected.resolves && timeline?.firedAt !== undefined) {
    out.push(
      check(
        `${name} resolved`,
        timeline.resolvedAt !== undefined,
        timeline.resolvedAt !== undefined
          ? 'resolved after the fault'
          : 'still firing at the end of the audit',
      ),
    );
  }
  return out;
}

export async function collectPrometheusEvidence(options: {
  readonly prometheus: PrometheusClient;
  readonly from: number;
  readonly to: number;
  readonly faults: readonly FaultWindow[];
  readonly expectedAlerts: readonly ExpectedAlert[];
  /** How long to wait for expected alerts to resolve after the load. */
  readonly resolveWaitS: number;
  readonly ledgerRequests: number;
  readonly log: (line: string) => void;
}): Promise<PrometheusEvidence> {
  const { prometheus, from, faults } = options;
  const notes: string[] = [];
  const checks: Check[] = [];
  if (!(await prometheus.ready())) {
    return {
      outboxBacklog: [],
      consumerLag: [],
      slo: {},
      alerts: [],
      checks: [skip('Prometheus reachable', `no answer from ${prometheus.baseUrl}`, false)],
      notes: [`Prometheus at ${prometheus.baseUrl} did not answer`],
    };
  }
  const longestFaultS = Math.max(0, ...faults.map((f) => (f.end - f.start) / 1000));
  const rules = await prometheus.alertRules().catch(() => []);
  const ruleOf = (name: string) => rules.find((r) => r.name === name);

  // Wait (bounded) for alerts that fired to resolve, so "resolved" is observed, not assumed.
  let to = options.to;
  const waitFor = options.expectedAlerts.filter((a) => a.resolves && ruleOf(a.name));
  if (waitFor.length > 0) {
    const deadline = Date.now() + options.resolveWaitS * 1000;
    for (;;) {
      const firing = await prometheus
        .instant(`ALERTS{alertstate="firing",alertname=~"${waitFor.map((a) => a.name).join('|')}"}`)
        .catch(() => []);
      if (firing.length === 0 || Date.now() >= deadline) break;
      options.log(`  audit: waiting for ${firing.map((f) => f.labels['alertname']).join(', ')} to resolve`);
      await sleep(5000);
    }
    to = Date.now();
  }

  const stepS = 2;
  const range = async (query: string): Promise<SeriesPoint[]> => {
    try {
      return sumSeries(await prometheus.range(query, from - 5000, to, stepS));
    } catch (error) {
      notes.push(`query failed: ${query}: ${(error as Error).message}`);
      return [];
    }
  };
  const outboxBacklog = await range(PROMQL.outboxBacklog);
  const consumerLag = await range(PROMQL.consumerLag);
  if (outboxBacklog.length === 0) notes.push(`no data for ${PROMQL.outboxBacklog}`);
  if (consumerLag.length === 0) notes.push(`no data for ${PROMQL.consumerLag}`);

  const windowS = Math.max(10, Math.ceil((options.to - from) / 1000) + 15);
  const instant = async (query: string): Promise<number | null> => {
    const q = query.replaceAll('$window', `${windowS}s`);
    try {
      const result = await prometheus.instant(q, options.to + 10_000);
      const value = result[0]?.value;
      return value === undefined || Number.isNaN(value) ? null : value;
    } catch (error) {
      notes.push(`query failed: ${q}: ${(error as Error).message}`);
      return null;
    }
  };
  const total = await instant(PROMQL.requestsTotal);
  const bad = await instant(PROMQL.requestsBad);
  const p99 = await instant(PROMQL.createP99Seconds);
  const shed = await instant(PROMQL.requestsShed);
  const freshness = await instant(PROMQL.confirmationP99Seconds);
  const slo: Record<string, number | null> = {
    'requests counted by Prometheus': total,
    '5xx + 429 counted by Prometheus (shed counts as bad)': bad ?? (total !== null ? 0 : null),
    'availability SLI (good share; objective 0.999)': total ? 1 - (bad ?? 0) / total : null,
    'shed requests': shed,
    'order creation p99 (s; objective 99% < 0.25)': p99,
    'acceptance → confirmation p99 (s; objective 99% < 5)': freshness,
    'requests in the ledger': options.ledgerRequests,
  };
  checks.push(
    total !== null && total > 0
      ? pass('Prometheus saw the drill’s requests', total, options.ledgerRequests)
      : skip('Prometheus saw the drill’s requests', `no data for ${PROMQL.requestsTotal}`, false),
  );

  const alertsRange = await prometheus
    .range(
      `ALERTS{alertname=~"${options.expectedAlerts.map((a) => a.name).join('|') || 'none'}"}`,
      from,
      to,
      stepS,
    )
    .catch(() => []);
  const alerts = options.expectedAlerts.map((a) => alertTimeline(a.name, alertsRange, to, stepS));
  for (const expected of options.expectedAlerts) {
    checks.push(
      ...alertCheck(
        expected,
        alerts.find((t) => t.name === expected.name),
        ruleOf(expected.name),
        longestFaultS,
      ),
    );
  }
  return { outboxBacklog, consumerLag, slo, alerts, checks, notes };
}

function pass(name: string, total: number, ledger: number): Check {
  // Advisory: Prometheus counts every request the service saw (also the capacity probe's), so it differs from the ledger.
  return check(
    name,
    true,
    `${Math.round(total)} requests counted over the window (ledger: ${ledger})`,
    false,
  );
}
