/**
 * The mapping tester (devops): a connection's payload mapping or a pasted JavaScript mapping, tried on a
 * sample message with `POST /api/2/mappings/try`. Shows the Ditto Protocol messages each mapper made, or
 * its error; a script error's line is marked in the script.
 */
import { useMemo, useState } from 'preact/hooks';
import { ApiError, request } from '../lib/api';
import { useLoad, useTitle } from '../lib/hooks';
import { isObject, pretty, type Json, type JsonObject } from '../lib/json';
import { Card, ErrorMessage, Notice, PageHeader } from '../components/common';
import { CodeEditor, parseEditorJson, type EditorError } from '../components/CodeEditor';
import type { DittoErrorBody } from '../lib/api';

const INCOMING_SCRIPT = `function mapToDittoProtocolMsg(headers, textPayload, bytePayload, contentType) {
  const data = JSON.parse(textPayload);
  const [namespace, name] = data.device.split(':');
  return Ditto.buildDittoProtocolMsg(
    namespace, name, 'things', 'twin', 'commands', 'modify',
    '/features/temperature/properties/value',
    headers,
    data.temperature
  );
}`;

const OUTGOING_SCRIPT = `function mapFromDittoProtocolMsg(namespace, name, group, channel, criterion, action, path, dittoHeaders, value, status, extra) {
  return Ditto.buildExternalMsg(dittoHeaders, JSON.stringify({ thing: namespace + ':' + name, path, value }), null, 'application/json');
}`;

const SAMPLE_TEXT = '{"device": "org.example:sensor-1", "temperature": 21.5}';
const SAMPLE_PROTOCOL = `{
  "topic": "org.example/sensor-1/things/twin/events/modified",
  "headers": {},
  "path": "/features/temperature/properties/value",
  "value": 21.5,
  "revision": 7
}`;

interface MapperResult {
  mapper: string;
  messages?: Json[];
  error?: DittoErrorBody;
}

/** Payload as the request wants it: text, or bytes from hex or base64 (checked here, sent as base64). */
function payloadOf(
  text: string,
  encoding: 'text' | 'hex' | 'base64',
): { textPayload: string } | { bytePayload: string } | { error: string } {
  if (encoding === 'text') return { textPayload: text };
  const clean = text.replace(/\s+/g, '');
  if (encoding === 'base64')
    return /^[A-Za-z0-9+/]*={0,2}$/.test(clean) && clean.length % 4 === 0
      ? { bytePayload: clean }
      : { error: 'This is not base64.' };
  if (!/^([0-9a-fA-F]{2})*$/.test(clean))
    return { error: 'Hex bytes are pairs of 0-9 and a-f, e.g. 0a ff 10.' };
  let binary = '';
  for (let i = 0; i < clean.length; i += 2)
    binary += String.fromCharCode(parseInt(clean.slice(i, i + 2), 16));
  return { bytePayload: btoa(binary) };
}

/** Headers from `name: value` lines. */
function headersOf(text: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return headers;
}

/** The script line an error message names ("… (line 3)"). */
function lineOf(message: string): number | undefined {
  const m = /\bline (\d+)/i.exec(message);
  return m ? Number(m[1]) : undefined;
}

export function MappingTesterPage() {
  useTitle('Mapping tester');
  const [mode, setMode] = useState<'script' | 'connection'>('script');
  const [direction, setDirection] = useState<'incoming' | 'outgoing'>('incoming');
  const [incoming, setIncoming] = useState(INCOMING_SCRIPT);
  const [outgoing, setOutgoing] = useState(OUTGOING_SCRIPT);
  const [connectionId, setConnectionId] = useState('');
  const [mappingKey, setMappingKey] = useState('');
  const [contentType, setContentType] = useState('application/json');
  const [encoding, setEncoding] = useState<'text' | 'hex' | 'base64'>('text');
  const [payload, setPayload] = useState(SAMPLE_TEXT);
  const [headers, setHeaders] = useState('device-id: sensor-1');
  const [protocol, setProtocol] = useState(SAMPLE_PROTOCOL);
  const [results, setResults] = useState<MapperResult[] | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [inputError, setInputError] = useState<string | undefined>(undefined);
  const [protocolErrors, setProtocolErrors] = useState<EditorError[]>([]);
  const [busy, setBusy] = useState(false);

  const connections = useLoad(
    async () =>
      mode === 'connection'
        ? (
            await request<JsonObject[]>(
              '/api/2/connections?fields=id,name,mappingDefinitions,sources,targets',
            )
          ).body
        : [],
    [mode],
  );
  const connection = connections.data?.find((c) => c.id === connectionId);
  // The payload mappings a connection uses: each source's and target's `payloadMapping`, else each definition.
  const mappings = useMemo(() => {
    if (!connection) return [] as Array<{ key: string; label: string; payloadMapping: string[] }>;
    const out: Array<{ key: string; label: string; payloadMapping: string[] }> = [];
    const add = (kind: string, list: unknown) =>
      Array.isArray(list) &&
      list.forEach((item, i) => {
        const pm =
          isObject(item) && Array.isArray(item.payloadMapping) ? (item.payloadMapping as string[]) : [];
        if (pm.length > 0)
          out.push({ key: `${kind}${i}`, label: `${kind} ${i + 1}: ${pm.join(' → ')}`, payloadMapping: pm });
      });
    add('source', connection.sources);
    add('target', connection.targets);
    for (const name of Object.keys(
      isObject(connection.mappingDefinitions) ? connection.mappingDefinitions : {},
    ))
      out.push({ key: `def:${name}`, label: `definition ${name}`, payloadMapping: [name] });
    out.push({ key: 'default', label: 'Ditto (the default)', payloadMapping: [] });
    return out;
  }, [connection]);

  // A script error's line, marked in the script of the direction tried.
  const scriptErrors: EditorError[] = [];
  if (mode === 'script') {
    const fromResults = (results ?? []).flatMap((r) => (r.error ? [r.error.message] : []));
    const fromRequest = error instanceof ApiError && error.body ? [error.body.message] : [];
    for (const message of [...fromResults, ...fromRequest]) {
      const line = lineOf(message);
      if (line !== undefined) scriptErrors.push({ line, message });
    }
  }

  const run = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    setInputError(undefined);
    setProtocolErrors([]);
    setResults(undefined);
    let message: JsonObject;
    if (direction === 'incoming') {
      const p = payloadOf(payload, encoding);
      if ('error' in p) {
        setInputError(p.error);
        return;
      }
      message = { headers: headersOf(headers), ...(contentType ? { contentType } : {}), ...p };
    } else {
      const p = parseEditorJson(protocol);
      if ('errors' in p) {
        setProtocolErrors(p.errors);
        return;
      }
      message = { protocolMessage: p.value };
    }
    let body: JsonObject;
    if (mode === 'script') {
      body = {
        mappingDefinitions: {
          script: {
            mappingEngine: 'JavaScript',
            options: { incomingScript: incoming, outgoingScript: outgoing },
          },
        },
        payloadMapping: ['script'],
        direction,
        message,
      };
    } else {
      const chosen = mappings.find((m) => m.key === mappingKey) ?? mappings[0];
      if (!connection || !chosen) {
        setInputError('Choose a connection and one of its mappings.');
        return;
      }
      body = {
        ...(isObject(connection.mappingDefinitions)
          ? { mappingDefinitions: connection.mappingDefinitions }
          : {}),
        payloadMapping: chosen.payloadMapping,
        direction,
        message,
      };
    }
    setBusy(true);
    try {
      const { body: reply } = await request<{ results: MapperResult[] }>('/api/2/mappings/try', {
        method: 'POST',
        body,
      });
      setResults(reply.results);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="page">
      <PageHeader
        title="Mapping tester"
        subtitle="Try a payload mapping on a sample message, without a broker."
      />
      <form onSubmit={run} class="columns">
        <div class="column-main">
          <Card title="Mapping">
            <fieldset class="segmented">
              <legend>Mapping to try</legend>
              <label>
                <input
                  type="radio"
                  name="mode"
                  checked={mode === 'script'}
                  onChange={() => setMode('script')}
                />
                <span>JavaScript</span>
              </label>
              <label>
                <input
                  type="radio"
                  name="mode"
                  checked={mode === 'connection'}
                  onChange={() => setMode('connection')}
                />
                <span>A connection's mapping</span>
              </label>
            </fieldset>
            {mode === 'script' ? (
              <>
                <div class="field">
                  <label for="incoming-script">Incoming script</label>
                  <CodeEditor
                    id="incoming-script"
                    label="Incoming script"
                    language="javascript"
                    value={incoming}
                    onChange={setIncoming}
                    errors={direction === 'incoming' ? scriptErrors : []}
                    size="large"
                    describedBy="incoming-script-hint"
                  />
                  <p class="hint" id="incoming-script-hint">
                    <code>mapToDittoProtocolMsg(headers, textPayload, bytePayload, contentType)</code> as in
                    Ditto; <code>Ditto.*</code> helpers are available.
                  </p>
                </div>
                <div class="field">
                  <label for="outgoing-script">Outgoing script</label>
                  <CodeEditor
                    id="outgoing-script"
                    label="Outgoing script"
                    language="javascript"
                    value={outgoing}
                    onChange={setOutgoing}
                    errors={direction === 'outgoing' ? scriptErrors : []}
                    size="small"
                  />
                </div>
              </>
            ) : (
              <>
                <div class="field">
                  <label for="mapping-connection">Connection</label>
                  <select
                    id="mapping-connection"
                    value={connectionId}
                    onChange={(e) => (setConnectionId(e.currentTarget.value), setMappingKey(''))}
                  >
                    <option value="">Choose a connection…</option>
                    {(connections.data ?? []).map((c) => (
                      <option key={String(c.id)} value={String(c.id)}>
                        {typeof c.name === 'string' && c.name ? `${c.name} (${String(c.id)})` : String(c.id)}
                      </option>
                    ))}
                  </select>
                </div>
                {connections.error !== undefined && <ErrorMessage error={connections.error} />}
                {connection && (
                  <div class="field">
                    <label for="mapping-choice">Payload mapping</label>
                    <select
                      id="mapping-choice"
                      value={mappingKey || mappings[0]?.key}
                      onChange={(e) => setMappingKey(e.currentTarget.value)}
                    >
                      {mappings.map((m) => (
                        <option key={m.key} value={m.key}>
                          {m.label}
                        </option>
                      ))}
                    </select>
                  </div>
                )}
              </>
            )}
          </Card>
        </div>
        <div class="column-side">
          <Card title="Sample message">
            <fieldset class="segmented">
              <legend>Direction</legend>
              <label>
                <input
                  type="radio"
                  name="direction"
                  checked={direction === 'incoming'}
                  onChange={() => setDirection('incoming')}
                />
                <span>Incoming (device → twin)</span>
              </label>
              <label>
                <input
                  type="radio"
                  name="direction"
                  checked={direction === 'outgoing'}
                  onChange={() => setDirection('outgoing')}
                />
                <span>Outgoing (twin → broker)</span>
              </label>
            </fieldset>
            {direction === 'incoming' ? (
              <>
                <div class="field">
                  <label for="content-type">Content type</label>
                  <input
                    id="content-type"
                    class="mono"
                    value={contentType}
                    onInput={(e) => setContentType(e.currentTarget.value)}
                    spellcheck={false}
                  />
                </div>
                <fieldset class="segmented">
                  <legend>Payload as</legend>
                  {(['text', 'hex', 'base64'] as const).map((enc) => (
                    <label key={enc}>
                      <input
                        type="radio"
                        name="encoding"
                        checked={encoding === enc}
                        onChange={() => setEncoding(enc)}
                      />
                      <span>{enc === 'text' ? 'Text' : enc === 'hex' ? 'Hex bytes' : 'Base64 bytes'}</span>
                    </label>
                  ))}
                </fieldset>
                <div class="field">
                  <label for="payload">Payload</label>
                  <textarea
                    id="payload"
                    class="mono"
                    rows={5}
                    value={payload}
                    onInput={(e) => setPayload(e.currentTarget.value)}
                    spellcheck={false}
                    aria-invalid={inputError ? true : undefined}
                    aria-describedby={inputError ? 'payload-error' : undefined}
                  />
                  {inputError && (
                    <p class="field-error" id="payload-error" role="alert">
                      {inputError}
                    </p>
                  )}
                </div>
                <div class="field">
                  <label for="headers">Headers</label>
                  <textarea
                    id="headers"
                    class="mono"
                    rows={3}
                    value={headers}
                    onInput={(e) => setHeaders(e.currentTarget.value)}
                    spellcheck={false}
                    aria-describedby="headers-hint"
                  />
                  <p class="hint" id="headers-hint">
                    One <code>name: value</code> per line.
                  </p>
                </div>
              </>
            ) : (
              <div class="field">
                <label for="protocol-message">Ditto Protocol message</label>
                <CodeEditor
                  id="protocol-message"
                  label="Ditto Protocol message"
                  language="json"
                  value={protocol}
                  onChange={setProtocol}
                  errors={protocolErrors}
                />
              </div>
            )}
            <div class="form-actions">
              <button type="submit" class="button button-primary" disabled={busy}>
                {busy ? 'Mapping…' : 'Map message'}
              </button>
            </div>
          </Card>
          <Card title="Result" id="mapping-result">
            <ErrorMessage error={error} title="The mapping could not be tried" />
            {!results && error === undefined && (
              <p class="muted">Map a message to see what the mappers make of it.</p>
            )}
            {results?.map((r) => (
              <div class="mapper-result" key={r.mapper} data-mapper={r.mapper}>
                <h3>
                  Mapper <code>{r.mapper}</code>
                </h3>
                {r.error ? (
                  <ErrorMessage error={new ApiError(r.error.status, r.error, new Headers())} />
                ) : r.messages && r.messages.length > 0 ? (
                  r.messages.map((m, i) => (
                    <CodeEditor
                      key={i}
                      id={`result-${r.mapper}-${i}`}
                      label={`Message ${i + 1} of mapper ${r.mapper}`}
                      language="json"
                      value={pretty(m)}
                      readOnly
                      size="small"
                    />
                  ))
                ) : (
                  <Notice>The mapper dropped the message (no result).</Notice>
                )}
              </div>
            ))}
          </Card>
        </div>
      </form>
    </div>
  );
}
