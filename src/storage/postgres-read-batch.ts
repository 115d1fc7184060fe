/**
 * Gathers the reads by key a process issues in one turn of its event loop into one query (`= any($1)`): one round
 * trip for all of them. Each read still gets objects of its own, built from the row, so no two callers share one.
 */
export class ReadBatcher<Row, Value> {
  private pending = new Map<string, { resolve(value: Value | undefined): void; reject(error: unknown): void }[]>();

  /**
   * @param fetch the rows of these keys, by key
   * @param build a reader's value from its row
   */
  constructor(
    private readonly fetch: (keys: string[]) => Promise<Map<string, Row>>,
    private readonly build: (row: Row) => Value,
  ) {}

  read(key: string): Promise<Value | undefined> {
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) setImmediate(() => this.flush());
      const waiting = this.pending.get(key);
      if (waiting) waiting.push({ resolve, reject });
      else this.pending.set(key, [{ resolve, reject }]);
    });
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = new Map();
    let rows: Map<string, Row>;
    try {
      rows = await this.fetch([...batch.keys()]);
    } catch (error) {
      for (const readers of batch.values()) for (const reader of readers) reader.reject(error);
      return;
    }
    for (const [key, readers] of batch) {
      const row = rows.get(key);
      for (const reader of readers) {
        try {
          reader.resolve(row === undefined ? undefined : this.build(row));
        } catch (error) {
          reader.reject(error);
        }
      }
    }
  }
}
