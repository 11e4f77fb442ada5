/**
 * A JSON value as a collapsible tree. Each branch has a button (keyboard: Tab to it, Enter or Space to open
 * or close); each leaf carries `data-pointer` with its JSON pointer. Values whose pointer is in `changed`
 * flash: the stamp restarts the animation on each change.
 */
import { useState } from 'preact/hooks';
import { isObject, pointerOf, type Json } from '../lib/json';

export interface JsonTreeProps {
  value: Json;
  /** Pointer → stamp of its latest change (a change of a branch flashes every leaf below it). */
  changed?: ReadonlyMap<string, number>;
  /** Branches deeper than this start closed. */
  openDepth?: number;
  label: string;
}

export function JsonTree(props: JsonTreeProps) {
  const [toggled, setToggled] = useState<ReadonlySet<string>>(new Set());
  const toggle = (pointer: string) =>
    setToggled((t) => {
      const next = new Set(t);
      if (!next.delete(pointer)) next.add(pointer);
      return next;
    });
  return (
    <div class="json-tree" role="group" aria-label={props.label}>
      <Node
        name={undefined}
        value={props.value}
        path={[]}
        depth={0}
        ctx={{ toggled, toggle, changed: props.changed, openDepth: props.openDepth ?? 8 }}
      />
    </div>
  );
}

interface Ctx {
  toggled: ReadonlySet<string>;
  toggle(pointer: string): void;
  changed?: ReadonlyMap<string, number>;
  openDepth: number;
}

/** The stamp of the latest change at `pointer` or above it. */
function changeStamp(changed: ReadonlyMap<string, number> | undefined, pointer: string): number | undefined {
  if (!changed || changed.size === 0) return undefined;
  let stamp: number | undefined;
  for (const [p, s] of changed) {
    if (p === '' || pointer === p || pointer.startsWith(p + '/')) stamp = Math.max(stamp ?? 0, s);
  }
  return stamp;
}

function Node(props: { name: string | undefined; value: Json; path: string[]; depth: number; ctx: Ctx }) {
  const { name, value, path, depth, ctx } = props;
  const pointer = pointerOf(path);
  const key = name === undefined ? null : <span class="json-key">{JSON.stringify(name)}</span>;
  if (isObject(value) || Array.isArray(value)) {
    const entries: Array<[string, Json]> = Array.isArray(value)
      ? value.map((v, i) => [String(i), v])
      : Object.entries(value);
    const open = depth < ctx.openDepth !== ctx.toggled.has(pointer);
    const brackets = Array.isArray(value) ? ['[', ']'] : ['{', '}'];
    const size = `${entries.length} ${Array.isArray(value) ? (entries.length === 1 ? 'item' : 'items') : entries.length === 1 ? 'key' : 'keys'}`;
    return (
      <div class="json-branch">
        <button
          type="button"
          class="json-toggle"
          aria-expanded={open}
          onClick={() => ctx.toggle(pointer)}
          aria-label={`${name === undefined ? 'root' : name}, ${size}`}
        >
          <span class="json-caret" aria-hidden="true">
            {open ? '▾' : '▸'}
          </span>
          {key}
          {key && <span class="json-colon">: </span>}
          <span class="json-bracket">{brackets[0]}</span>
          {!open && (
            <span class="json-size">
              {' '}
              {size} {brackets[1]}
            </span>
          )}
        </button>
        {open && (
          <div class="json-children" role="group">
            {entries.map(([k, v]) => (
              <Node key={k} name={k} value={v} path={[...path, k]} depth={depth + 1} ctx={ctx} />
            ))}
            {entries.length === 0 && <span class="json-empty">empty</span>}
          </div>
        )}
        {open && <span class="json-bracket json-close">{brackets[1]}</span>}
      </div>
    );
  }
  const stamp = changeStamp(ctx.changed, pointer);
  const type = value === null ? 'null' : typeof value;
  return (
    <div class="json-leaf">
      {key}
      {key && <span class="json-colon">: </span>}
      <span key={stamp ?? 0} class={`json-value json-${type}${stamp ? ' flash' : ''}`} data-pointer={pointer}>
        {JSON.stringify(value)}
      </span>
    </div>
  );
}
