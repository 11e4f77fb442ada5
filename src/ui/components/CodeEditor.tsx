/**
 * A code editor (CodeMirror 6) for JSON and JavaScript with errors shown at their line: the line is marked
 * and the message sits right below it. An error names its line, or (JSON) the JSON pointer of the field it
 * is about, which is resolved through the syntax tree to the line of that field (or of its nearest parent
 * that exists). Tab is left to the page (keyboard users move on with it); the editor is labelled.
 */
import { useEffect, useRef } from 'preact/hooks';
import { EditorState, StateEffect, StateField, type Range } from '@codemirror/state';
import {
  Decoration,
  EditorView,
  WidgetType,
  drawSelection,
  highlightActiveLine,
  highlightActiveLineGutter,
  keymap,
  lineNumbers,
  type DecorationSet,
} from '@codemirror/view';
import { defaultKeymap, history, historyKeymap } from '@codemirror/commands';
import {
  bracketMatching,
  defaultHighlightStyle,
  ensureSyntaxTree,
  indentOnInput,
  syntaxHighlighting,
} from '@codemirror/language';
import { json } from '@codemirror/lang-json';
import { javascript } from '@codemirror/lang-javascript';
import type { SyntaxNode } from '@lezer/common';
import { parseJson, parsePointer, type Json } from '../lib/json';

export interface EditorError {
  message: string;
  /** 1-based line. */
  line?: number;
  /** JSON pointer of the field (JSON documents). */
  pointer?: string;
}

const setErrors = StateEffect.define<EditorError[]>();

/** The page's style nonce (src/api/http/ui.ts): CodeMirror's style elements need it under the CSP. */
const styleNonce = document.querySelector<HTMLMetaElement>('meta[name="csp-nonce"]')?.content ?? '';

class ErrorWidget extends WidgetType {
  constructor(
    readonly message: string,
    readonly pointer: string | undefined,
  ) {
    super();
  }

  override eq(other: ErrorWidget): boolean {
    return other.message === this.message && other.pointer === this.pointer;
  }

  toDOM(): HTMLElement {
    const div = document.createElement('div');
    div.className = 'cm-inline-error';
    div.setAttribute('role', 'alert');
    if (this.pointer !== undefined) div.dataset.pointer = this.pointer;
    div.textContent = this.message;
    return div;
  }
}

const errorField = StateField.define<DecorationSet>({
  create: () => Decoration.none,
  update(decorations, tr) {
    let next = decorations.map(tr.changes);
    for (const effect of tr.effects)
      if (effect.is(setErrors)) next = errorDecorations(tr.state, effect.value);
    return next;
  },
  provide: (field) => EditorView.decorations.from(field),
});

function errorDecorations(state: EditorState, errors: readonly EditorError[]): DecorationSet {
  const ranges: Array<Range<Decoration>> = [];
  for (const error of errors) {
    const number =
      error.line ?? (error.pointer !== undefined ? lineOfPointer(state, error.pointer) : undefined);
    if (number === undefined || number < 1 || number > state.doc.lines) continue;
    const line = state.doc.line(number);
    ranges.push(Decoration.line({ class: 'cm-error-line' }).range(line.from));
    ranges.push(
      Decoration.widget({
        widget: new ErrorWidget(error.message, error.pointer),
        block: true,
        side: 1,
      }).range(line.to),
    );
  }
  return Decoration.set(ranges, true);
}

const PUNCTUATION = new Set(['{', '}', '[', ']', ',', ':']);

/** The line of the field at `pointer` in a JSON document, or of its nearest parent present; undefined when it is not JSON. */
function lineOfPointer(state: EditorState, pointer: string): number | undefined {
  const tree = ensureSyntaxTree(state, state.doc.length, 500);
  let node: SyntaxNode | null = tree?.topNode.firstChild ?? null;
  if (!node) return undefined;
  let at: SyntaxNode = node;
  for (const segment of parsePointer(pointer)) {
    let next: SyntaxNode | null = null;
    if (node.name === 'Object') {
      for (let child: SyntaxNode | null = node.firstChild; child; child = child.nextSibling) {
        const name = child.name === 'Property' ? child.getChild('PropertyName') : null;
        if (name && unquote(state.sliceDoc(name.from, name.to)) === segment) {
          at = child;
          next = child.lastChild;
          break;
        }
      }
    } else if (node.name === 'Array' && /^\d+$/.test(segment)) {
      let index = 0;
      for (let child: SyntaxNode | null = node.firstChild; child; child = child.nextSibling) {
        if (PUNCTUATION.has(child.name)) continue;
        if (index++ === Number(segment)) {
          at = next = child;
          break;
        }
      }
    }
    if (!next) break;
    node = next;
  }
  return state.doc.lineAt(at.from).number;
}

function unquote(text: string): string {
  try {
    return JSON.parse(text) as string;
  } catch {
    return text;
  }
}

/** The line a JSON.parse message points at ("… at position 42 (line 3 column 5)"), else 1. */
function lineOfParseError(text: string, message: string): number {
  const line = /line (\d+)/.exec(message);
  if (line) return Number(line[1]);
  const position = /position (\d+)/.exec(message);
  if (position) return text.slice(0, Number(position[1])).split('\n').length;
  return 1;
}

/** The JSON of an editor's text, or the parser's message as an error at its line. */
export function parseEditorJson(text: string): { value: Json } | { errors: EditorError[] } {
  const parsed = parseJson(text);
  if ('value' in parsed) return parsed;
  return { errors: [{ line: lineOfParseError(text, parsed.error), message: `Not JSON: ${parsed.error}` }] };
}

export interface CodeEditorProps {
  id: string;
  label: string;
  value: string;
  onChange?: (value: string) => void;
  language: 'json' | 'javascript';
  errors?: readonly EditorError[];
  readOnly?: boolean;
  /** ids of elements that describe the editor (hints, error lists). */
  describedBy?: string;
  /** Height class: small (6 lines), medium (default), large. */
  size?: 'small' | 'medium' | 'large';
}

export function CodeEditor(props: CodeEditorProps) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const onChange = useRef(props.onChange);
  onChange.current = props.onChange;

  useEffect(() => {
    const state = EditorState.create({
      doc: props.value,
      extensions: [
        lineNumbers(),
        highlightActiveLineGutter(),
        history(),
        drawSelection(),
        indentOnInput(),
        bracketMatching(),
        highlightActiveLine(),
        EditorView.lineWrapping,
        syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
        keymap.of([...defaultKeymap, ...historyKeymap]),
        props.language === 'json' ? json() : javascript(),
        errorField,
        EditorView.cspNonce.of(styleNonce),
        EditorState.readOnly.of(props.readOnly ?? false),
        EditorView.editable.of(!props.readOnly),
        EditorView.contentAttributes.of({
          'aria-label': props.label,
          id: props.id,
          ...(props.describedBy ? { 'aria-describedby': props.describedBy } : {}),
          'aria-multiline': 'true',
          role: 'textbox',
        }),
        EditorView.updateListener.of((update) => {
          if (update.docChanged) onChange.current?.(update.state.doc.toString());
        }),
      ],
    });
    view.current = new EditorView({ state, parent: host.current! });
    return () => {
      view.current?.destroy();
      view.current = null;
    };
    // The editor is made once; value and errors are pushed into it below.
  }, [props.language, props.readOnly]);

  useEffect(() => {
    const v = view.current;
    if (v && v.state.doc.toString() !== props.value)
      v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: props.value } });
  }, [props.value]);

  const errorsKey = JSON.stringify(props.errors ?? []);
  useEffect(() => {
    view.current?.dispatch({ effects: setErrors.of(props.errors ? [...props.errors] : []) });
  }, [errorsKey, props.value]);

  return (
    <div class={`code-editor code-editor-${props.size ?? 'medium'}`} ref={host} data-editor={props.id} />
  );
}
