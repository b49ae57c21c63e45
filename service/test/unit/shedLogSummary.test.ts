import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ShedLogSummary } from '../../src/telemetry/shedLogSummary';

function recordingLogger(): { lines: { message: string; meta: Record<string, unknown> }[]; warn: never } {
  const lines: { message: string; meta: Record<string, unknown> }[] = [];
  const warn = (message: string, meta: Record<string, unknown>) => lines.push({ message, meta });
  return { lines, warn: warn as never };
}

describe('shed log summary', () => {
  it('writes one line per interval with counts by reason and route, nothing when nothing was shed', () => {
    const logger = recordingLogger();
    const summary = new ShedLogSummary(logger, 60_000);
    summary.flush();
    assert.equal(logger.lines.length, 0, 'no shed requests, no line');
    for (let i = 0; i < 5; i++) summary.note('concurrency', 'POST /v1/orders');
    summary.note('event_loop_delay', 'GET /v1/orders/:id');
    summary.note('concurrency', 'GET /v1/orders/:id');
    assert.equal(logger.lines.length, 0, 'nothing is written per request');
    summary.flush();
    assert.equal(logger.lines.length, 1);
    const [line] = logger.lines;
    assert.equal(line?.message, 'requests shed');
    assert.equal(line?.meta['count'], 7);
    assert.deepEqual(line?.meta['by_reason'], { concurrency: 6, event_loop_delay: 1 });
    assert.deepEqual(line?.meta['by_route'], { 'POST /v1/orders': 5, 'GET /v1/orders/:id': 2 });
    assert.equal(typeof line?.meta['window_ms'], 'number');
    summary.flush();
    assert.equal(logger.lines.length, 1, 'counts start again after a line');
  });

  it('the first shed request of an interval schedules the line by itself', async () => {
    const logger = recordingLogger();
    const summary = new ShedLogSummary(logger, 30);
    summary.note('outbox_backlog', 'POST /v1/orders');
    summary.note('outbox_backlog', 'POST /v1/orders');
    await new Promise((resolve) => setTimeout(resolve, 120));
    assert.equal(logger.lines.length, 1);
    assert.equal(logger.lines[0]?.meta['count'], 2);
    summary.note('outbox_backlog', 'POST /v1/orders');
    await new Promise((resolve) => setTimeout(resolve, 120));
    assert.equal(logger.lines.length, 2, 'a later shed request opens a new interval');
  });
});
