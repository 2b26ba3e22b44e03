// A small, bounded memo of values computed from a (name, value) pair: the encoders of
// single-pair structured metadata (nearly always detected_level=<level>) in the WAL record and
// the block format look their bytes up here instead of encoding them per entry.

export class PairCache<V> {
  private readonly byName = new Map<string, Map<string, V>>();

  /** `make` computes a missing value; at most `maxNames` names and `maxValues` values per name are kept. */
  constructor(
    private readonly make: (name: string, value: string) => V,
    private readonly maxNames = 16,
    private readonly maxValues = 64,
  ) {}

  get(name: string, value: string): V {
    let m = this.byName.get(name);
    if (m === undefined) {
      m = new Map();
      if (this.byName.size < this.maxNames) this.byName.set(name, m);
    }
    let v = m.get(value);
    if (v === undefined) {
      v = this.make(name, value);
      if (m.size < this.maxValues) m.set(value, v);
    }
    return v;
  }
}
