// The RQL abstract syntax tree (ditto-interfaces.md §3.1). Produced by `parseRql`, consumed by the
// in-memory evaluator, the in-memory index and (later) the PostgreSQL query builder. Plain data, so it
// can be serialised (the cursor hash uses JSON.stringify of it).

/** A `time:` placeholder literal (§3.1, §11.5), resolved at evaluation time against a clock. */
export interface PlaceholderLiteral {
  placeholder: string; // e.g. "time:now-1h[d]"
}

export type Literal = string | number | boolean | null | PlaceholderLiteral;

export type ComparisonOp = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le' | 'like' | 'ilike';

export interface ComparisonNode {
  op: ComparisonOp;
  /** The property as written (escapes decoded, not trimmed), e.g. "attributes/location/floor". */
  property: string;
  value: Literal;
}

export interface InNode {
  op: 'in';
  property: string;
  values: Literal[];
}

export interface PropertyNode {
  op: 'exists' | 'empty';
  property: string;
}

export interface LogicalNode {
  op: 'and' | 'or';
  children: RqlNode[];
}

export interface NotNode {
  op: 'not';
  child: RqlNode;
}

export type RqlNode = ComparisonNode | InNode | PropertyNode | LogicalNode | NotNode;

export function isPlaceholder(value: Literal): value is PlaceholderLiteral {
  return typeof value === 'object' && value !== null;
}
