// Public API of the search domain (ditto-interfaces.md §2.7, §3): RQL parsing, in-memory evaluation and
// the in-memory search index.
export type { Literal, PlaceholderLiteral, RqlNode } from './rql/ast.js';
export { parseRql } from './rql/parser.js';
export {
  parseSearchOptions,
  DEFAULT_PAGE_SIZE,
  MAX_PAGE_SIZE,
  type SearchOptions,
  type SortField,
} from './rql/options.js';
export { parseNamespaces } from './rql/namespaces.js';
export type { FilterMode } from './rql/properties.js';
export { compileFilter, evaluate, type EvaluateOptions, type ThingPredicate } from './evaluate.js';
export { SearchIndex, type QueryInput, type QueryResult } from './search-index.js';
export type { ThingJson } from './values.js';
