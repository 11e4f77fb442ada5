/**
 * The `condition` of a command (§2.1): an RQL expression evaluated in memory on the thing as the
 * requester may read it (so it needs READ on what it references). Parsed expressions are cached, since
 * devices tend to send the same condition again and again; compiling is per call because it captures the
 * clock for `time:now`.
 */
import { conditionInvalid } from '../errors/things.js';
import { DittoError } from '../errors/ditto-error.js';
import type { RqlNode } from './rql/ast.js';
import { compileFilter } from './evaluate.js';
import { parseRql } from './rql/parser.js';
import type { ThingJson } from './values.js';

const MAX_CACHED = 256;

export function createConditionEvaluator(): (condition: string, thing: Record<string, unknown>) => boolean {
  const cache = new Map<string, RqlNode>();
  return (condition, thing) => {
    let ast = cache.get(condition);
    if (!ast) {
      try {
        ast = parseRql(condition, 'search');
      } catch (err) {
        if (err instanceof DittoError)
          throw conditionInvalid({ condition, detail: err.message }, { cause: err });
        throw err;
      }
      if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value!);
      cache.set(condition, ast);
    }
    // Conditions are evaluated in memory like event filters (ditto: ThingPredicateVisitor).
    return compileFilter(ast, { mode: 'event' })(thing as ThingJson);
  };
}
