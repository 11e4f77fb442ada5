import { searchOptionInvalid } from '../../errors/search.js';
import { propertyProblem } from './properties.js';

// Search options (ditto-interfaces.md §2.7, §3.3): `sort(+p1,-p2)`, `size(n)`, `cursor(c)` and the
// deprecated `limit(offset,count)`, comma separated: `sort(+thingId),size(10),cursor(XYZ)`.

export const DEFAULT_PAGE_SIZE = 25;
export const MAX_PAGE_SIZE = 200;

export interface SortField {
  property: string;
  direction: 'asc' | 'desc';
}

export interface SearchOptions {
  sort?: SortField[];
  size?: number;
  cursor?: string;
  /** Deprecated offset paging; never together with size/cursor. */
  limit?: { offset: number; count: number };
}

function fail(detail: string): never {
  throw searchOptionInvalid({ detail });
}

/** Splits at commas that are not inside parentheses. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

function parseCount(text: string, what: string, min: number, max: number): number {
  if (!/^[0-9]+$/.test(text)) fail(`${what} must be a non-negative integer but was '${text}'`);
  const n = Number(text);
  if (n < min || n > max) fail(`${what} must be between ${min} and ${max} but was ${text}`);
  return n;
}

function parseSort(args: string): SortField[] {
  return args.split(',').map((arg) => {
    const sign = arg[0];
    if (sign !== '+' && sign !== '-') {
      fail(`sort property '${arg}' must start with '+' or '-' (URL-encode '+' as %2B)`);
    }
    const property = arg.slice(1);
    const problem = property === '' ? 'the sort property is empty' : propertyProblem(property, 'search');
    if (problem) fail(problem);
    return { property, direction: sign === '+' ? 'asc' : 'desc' };
  });
}

/** Parses one or more `option=` values (each may hold several comma separated options). */
export function parseSearchOptions(input: string | string[] | undefined): SearchOptions {
  const options: SearchOptions = {};
  const texts = input === undefined ? [] : Array.isArray(input) ? input : [input];
  for (const text of texts) {
    if (text === '') continue;
    for (const part of splitTopLevel(text)) {
      const m = /^([a-z]+)\((.*)\)$/s.exec(part);
      if (!m) fail(`'${part}' is not an option like sort(+thingId), size(25), cursor(…) or limit(0,25)`);
      const [, name, args] = m;
      if ((options as Record<string, unknown>)[name] !== undefined)
        fail(`the option '${name}' is given twice`);
      switch (name) {
        case 'sort':
          options.sort = parseSort(args);
          break;
        case 'size':
          options.size = parseCount(args, 'size', 1, MAX_PAGE_SIZE);
          break;
        case 'cursor':
          if (args === '') fail('the cursor is empty');
          options.cursor = args;
          break;
        case 'limit': {
          const [offset, count, ...rest] = args.split(',');
          if (count === undefined || rest.length > 0)
            fail(`limit needs two arguments (offset,count) but got '${args}'`);
          options.limit = {
            offset: parseCount(offset, 'limit offset', 0, Number.MAX_SAFE_INTEGER),
            count: parseCount(count, 'limit count', 1, MAX_PAGE_SIZE),
          };
          break;
        }
        default:
          fail(`unknown option '${name}'`);
      }
    }
  }
  // ditto: §2.7 "limit must not be combined with size/cursor".
  if (options.limit && (options.size !== undefined || options.cursor !== undefined)) {
    fail("the deprecated option 'limit' must not be combined with 'size' or 'cursor'");
  }
  return options;
}
