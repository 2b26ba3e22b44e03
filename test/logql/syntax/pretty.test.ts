// prettyPrint against Loki's prettier behaviour (cases and expected layouts from Loki's
// prettier tests, which run with a 20-character line width; the server uses Loki's 100).
import { describe, expect, it } from 'vitest';
import { parseExpr, prettyPrint } from '../../../src/logql/syntax/index.js';

const CASES: Array<[string, string]> = [
  ['{job="loki", instance="localhost"}', '{job="loki", instance="localhost"}'],
  [
    '{job="loki", instance="localhost"}|logfmt|level="error" ',
    '{job="loki", instance="localhost"}\n  | logfmt\n  | level="error"',
  ],
  [
    '{job="loki", instance="localhost"}|= "error" != "memcached" |= ip("192.168.0.1") |logfmt',
    '{job="loki", instance="localhost"}\n  |= "error"\n  != "memcached"\n  |= ip("192.168.0.1")\n  | logfmt',
  ],
  [
    'count_over_time({job="loki", instance="localhost"}|= "error"[5m] offset 20m)',
    'count_over_time(\n  {job="loki", instance="localhost"}\n    |= "error" [5m] offset 20m\n)',
  ],
  [
    'quantile_over_time(0.99,{container="ingress-nginx",service="hosted-grafana"}| json| unwrap response_latency_seconds| __error__=""[1m]) by (cluster)',
    'quantile_over_time(\n  0.99,\n  {container="ingress-nginx", service="hosted-grafana"}\n    | json\n    | unwrap response_latency_seconds\n    | __error__="" [1m]\n) by (cluster)',
  ],
  [
    '{job="loki", namespace="loki-prod", container="nginx-ingress"}| json first_server="servers[0]", ua="request.headers[\\"User-Agent\\"]" | level="error"',
    '{job="loki", namespace="loki-prod", container="nginx-ingress"}\n  | json first_server="servers[0]",ua="request.headers[\\"User-Agent\\"]"\n  | level="error"',
  ],
  [
    'topk(5, count_over_time({foo="bar",namespace="loki",instance="localhost"}[5m])) by (container)',
    'topk by (container)(\n  5,\n  count_over_time(\n    {foo="bar", namespace="loki", instance="localhost"} [5m]\n  )\n)',
  ],
  [
    'label_replace(rate({job="api-server",service="a:c"}|= "err" [5m]), "foo", "$1", "service", "(.*):.*")',
    'label_replace(\n  rate(\n    {job="api-server", service="a:c"}\n      |= "err" [5m]\n  ),\n  "foo",\n  "$1",\n  "service",\n  "(.*):.*"\n)',
  ],
  [
    'sum(rate({job="loki"}[5m])) + sum(rate({job="loki-dev"}[5m])) / sum(rate({job="loki-prod"}[5m]))',
    '  sum(\n    rate(\n      {job="loki"} [5m]\n    )\n  )\n+\n    sum(\n      rate(\n        {job="loki-dev"} [5m]\n      )\n    )\n  /\n    sum(\n      rate(\n        {job="loki-prod"} [5m]\n      )\n    )',
  ],
  [
    'sum(rate({job="loki"}[5m])) * on(instance, job) group_left (node) sum(rate({job="loki-prod"}[5m]))',
    '  sum(\n    rate(\n      {job="loki"} [5m]\n    )\n  )\n* on (instance, job) group_left (node)\n  sum(\n    rate(\n      {job="loki-prod"} [5m]\n    )\n  )',
  ],
];

describe('prettyPrint (20-character width, as in Loki tests)', () => {
  it.each(CASES)('%s', (q, want) => {
    expect(prettyPrint(parseExpr(q), 20)).toBe(want);
  });
});

describe('prettyPrint (default 100-character width)', () => {
  it('keeps short queries on one line in String() form', () => {
    expect(prettyPrint(parseExpr('sum by (a) (rate({x="y"} |= "e" | json [5m]))'))).toBe('sum by (a)(rate({x="y"} |= "e" | json[5m]))');
  });
  it('splits long queries', () => {
    const q = 'sum by (namespace) (count_over_time({app="api", namespace="prod"} |= "error" | json | level="error" [5m]))';
    expect(prettyPrint(parseExpr(q))).toBe(
      'sum by (namespace)(\n  count_over_time({app="api", namespace="prod"} |= "error" | json | level="error"[5m])\n)',
    );
  });
});
