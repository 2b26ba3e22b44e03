// Unit tests of the multi-tenant label rules (Loki's filterValuesByMatchers and relabel in
// pkg/querier/multi_tenant_querier.go): `__tenant_id__` matchers pick tenants and are dropped,
// `original___tenant_id__` matchers become matchers on a stream's own `__tenant_id__`, and
// results get `__tenant_id__` with a stream's own value kept as `original___tenant_id__`.
import { describe, expect, it } from 'vitest';
import { splitTenantMatchers, withTenantLabel } from '../../src/query/engine.js';

describe('multi-tenant label rules', () => {
  it('__tenant_id__ matchers choose tenants; other matchers pass through', () => {
    const r = splitTenantMatchers(['a', 'b', 'c'], [
      { type: '=', name: 'job', value: 'x' },
      { type: '=~', name: '__tenant_id__', value: 'a|c' },
      { type: '!=', name: '__tenant_id__', value: 'c' },
    ]);
    expect(r).toEqual({ tenants: ['a'], matchers: [{ type: '=', name: 'job', value: 'x' }] });
    expect(splitTenantMatchers(['a', 'b'], [{ type: '=', name: 'job', value: 'x' }]).tenants).toEqual(['a', 'b']);
    expect(splitTenantMatchers(['a', 'b'], [{ type: '=', name: '__tenant_id__', value: 'z' }]).tenants).toEqual([]);
  });

  it('original___tenant_id__ matchers target the stream label __tenant_id__', () => {
    const r = splitTenantMatchers(['a'], [{ type: '=', name: 'original___tenant_id__', value: 'own' }]);
    expect(r.matchers).toEqual([{ type: '=', name: '__tenant_id__', value: 'own' }]);
  });

  it('results get __tenant_id__, sorted; a stream\'s own one is kept as original___tenant_id__', () => {
    expect(withTenantLabel([{ name: 'job', value: 'x' }], 'a')).toEqual([{ name: '__tenant_id__', value: 'a' }, { name: 'job', value: 'x' }]);
    expect(withTenantLabel([{ name: '__tenant_id__', value: 'own' }, { name: 'job', value: 'x' }], 'a')).toEqual([
      { name: '__tenant_id__', value: 'a' },
      { name: 'job', value: 'x' },
      { name: 'original___tenant_id__', value: 'own' },
    ]);
  });
});
