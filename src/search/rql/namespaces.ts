import { searchNamespacesInvalid } from '../../errors/search.js';

// The `namespaces` search parameter (ditto-interfaces.md §2.7): a comma separated list of namespaces
// (§1.1: segments separated by "." or "-", each starting with a letter; the empty namespace is allowed).

const NAMESPACE = /^(?:|[a-zA-Z]\w*(?:[.-][a-zA-Z]\w*)*)$/;

export function parseNamespaces(input: string | undefined): string[] | undefined {
  if (input === undefined) return undefined;
  const namespaces = input.split(',');
  const invalid = namespaces.filter((ns) => !NAMESPACE.test(ns));
  if (invalid.length > 0) {
    throw searchNamespacesInvalid({
      namespaces: input,
      detail: `not a valid namespace: ${invalid.map((n) => `'${n}'`).join(', ')}`,
    });
  }
  return [...new Set(namespaces)];
}
