// Bind parameters of one SQL statement: values are never part of the SQL text (no injection, and the
// text stays the same shape for the same query).

export class Params {
  readonly values: unknown[] = [];

  /** Adds a value and returns its placeholder, with a cast when given (e.g. `$3::jsonpath`). */
  add(value: unknown, cast?: string): string {
    this.values.push(value);
    return cast ? `$${this.values.length}::${cast}` : `$${this.values.length}`;
  }
}
