// Queries that arrive together start in loop turns of their own (parse, stream selection and
// scan dispatch of one, then timers and I/O, then the next), not back to back in one phase.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInProcess } from '../compactor/helpers.js';
import type { RunningServer } from '../../src/server.js';

describe('query starts', () => {
  let srv: RunningServer;
  beforeAll(async () => {
    srv = await startInProcess();
  });
  afterAll(async () => {
    await srv.close();
  });

  it('take one loop iteration each', async () => {
    // a loop-iteration counter: one immediate per check phase
    let iteration = 0;
    let running = true;
    const tick = (): void => {
      if (!running) return;
      iteration++;
      setImmediate(tick);
    };
    setImmediate(tick);
    const engine = srv.services.engine;
    const metricQuery = engine.metricQuery.bind(engine);
    const startedIn: number[] = [];
    engine.metricQuery = (...a: Parameters<typeof metricQuery>) => {
      startedIn.push(iteration);
      return metricQuery(...a);
    };
    try {
      const q = encodeURIComponent('sum(count_over_time({job="x"}[1m]))');
      const res = await Promise.all(
        Array.from({ length: 4 }, () => srv.app.inject({ method: 'GET', url: `/loki/api/v1/query?query=${q}&time=1795132800` })),
      );
      for (const r of res) expect(r.statusCode).toBe(200);
    } finally {
      engine.metricQuery = metricQuery;
      running = false;
    }
    expect(startedIn).toHaveLength(4);
    expect(new Set(startedIn).size).toBe(4);
  });
});
