/**
 * The things HTTP API v2 (§2.1–§2.5): every resource level from `/api/2/things` down to a single desired
 * property, translated to ThingCommands for the things service and back to HTTP.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { commandTimeout, jsonInvalid } from '../../errors/general.js';
import { thingIdInvalid, thingIdNotSettable, thingIdsMissing } from '../../errors/things.js';
import { isValidNamespace, isValidNamespacedId } from '../../model/ids.js';
import type { ThingCommand, ThingCommandAction, ThingCommandResponse } from '../../model/signals.js';
import type { ThingsService } from '../../things/service.js';
import { withSpecialFields } from '../../model/special-fields.js';
import { applyFieldSelector, parseFieldSelector } from '../../util/field-selector.js';
import { isPlainObject } from '../../util/json-pointer.js';
import { sendError } from './errors.js';
import { dittoHeadersOf } from './headers.js';
import { parseTimeout } from '../../protocol/index.js';
import { createdLocation, jsonBody, resourcePathOf, thingIdOf } from './thing-request.js';
import { jsonText } from '../../util/json-text.js';

export interface ThingsRoutesOptions {
  things: ThingsService;
  defaultNamespace: string;
  /** GET /api/2/things without ids: an unfiltered search (wired by the search routes). */
  listThings?: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
}

// ditto: §2.1 command timeout default 60 s, max 60 s; fire-and-forget waits up to 3 s for errors.
const COMMAND_TIMEOUT_MS = 60_000;
const FIRE_AND_FORGET_WAIT_MS = 3_000;

export async function thingsRoutes(app: FastifyInstance, options: ThingsRoutesOptions): Promise<void> {
  const { things } = options;

  const run = async (
    request: FastifyRequest,
    reply: FastifyReply,
    action: ThingCommandAction,
    thingId: string,
    path: string,
    value?: unknown,
  ) => {
    const headers = dittoHeadersOf(request);
    reply.header('correlation-id', headers['correlation-id']);
    const query = request.query as Record<string, string | undefined>;
    let timeoutMs = parseTimeout(headers['timeout'], COMMAND_TIMEOUT_MS, COMMAND_TIMEOUT_MS);
    const responseRequired = headers['response-required'] !== 'false' && timeoutMs !== 0;
    if (!responseRequired) timeoutMs = FIRE_AND_FORGET_WAIT_MS;
    const command: ThingCommand = { thingId, channel: 'twin', action, path, headers };
    if (value !== undefined) command.value = value;
    if (action === 'retrieve' && query.fields !== undefined) {
      parseFieldSelector(query.fields);
      command.fields = query.fields;
    }
    // A cached thing is read at once: no promise and no timeout timer.
    const now =
      action === 'retrieve' && responseRequired ? things.retrieveNow(command, request.auth) : undefined;
    if (now) return sendResponse(request, reply, now);
    const execution = things.execute(command, request.auth);
    const outcome = await within(execution, timeoutMs);
    if (outcome === TIMED_OUT) {
      // The command goes on; its outcome is no longer reported to this caller.
      execution.catch((err: unknown) => request.log.debug({ err }, 'command failed after its timeout'));
      if (!responseRequired) return reply.code(202).send();
      return sendError(reply, commandTimeout({ timeout: `${timeoutMs / 1000}s` }));
    }
    if (!responseRequired) return reply.code(202).send();
    return sendResponse(request, reply, outcome);
  };

  const sendResponse = (request: FastifyRequest, reply: FastifyReply, response: ThingCommandResponse) => {
    if (response.headers.etag) reply.header('etag', response.headers.etag);
    const historical = response.headers['historical-headers'];
    if (historical !== undefined) reply.header('historical-headers', historical);
    if (response.status === 201) reply.header('location', createdLocation(request, response.thingId));
    reply.code(response.status);
    if (response.value === undefined || response.status === 204) return reply.send();
    return reply.type('application/json').send(jsonText(response.value));
  };

  app.get('/api/2/things', async (request, reply) => {
    const query = request.query as Record<string, string | undefined>;
    if (query.ids === undefined) {
      if (options.listThings) return options.listThings(request, reply);
      throw thingIdsMissing();
    }
    const ids = query.ids
      .split(',')
      .map((id) => id.trim())
      .filter(Boolean);
    if (ids.length === 0) throw thingIdsMissing();
    const selector = query.fields;
    if (selector !== undefined) parseFieldSelector(selector);
    const items: unknown[] = [];
    for (const id of ids) {
      if (!isValidNamespacedId(id)) throw thingIdInvalid({ id });
      const found = await things.readable(id, request.auth);
      if (!found) continue; // ditto: §2.5 missing and unreadable things are silently omitted
      items.push(
        selector === undefined
          ? found.thing
          : applyFieldSelector(withSpecialFields(found.thing, found.record), selector),
      );
    }
    reply.header('correlation-id', dittoHeadersOf(request)['correlation-id']);
    return reply.type('application/json').send(JSON.stringify(items));
  });

  app.post('/api/2/things', async (request, reply) => {
    const body = jsonBody(request, 'json');
    if (!isPlainObject(body)) throw jsonInvalid({ detail: 'The thing must be a JSON object.' });
    if (body.thingId !== undefined) throw thingIdNotSettable();
    const namespace =
      (request.query as Record<string, string | undefined>).namespace ?? options.defaultNamespace;
    if (!isValidNamespace(namespace)) throw thingIdInvalid({ id: `${namespace}:` });
    return run(request, reply, 'create', `${namespace}:${randomUUID()}`, '/', body);
  });

  const handlers = (pathOf: (request: FastifyRequest) => string) => ({
    get: (request: FastifyRequest, reply: FastifyReply) =>
      run(request, reply, 'retrieve', thingIdOf(request), pathOf(request)),
    put: (request: FastifyRequest, reply: FastifyReply) =>
      run(request, reply, 'modify', thingIdOf(request), pathOf(request), jsonBody(request, 'json')),
    patch: (request: FastifyRequest, reply: FastifyReply) =>
      run(request, reply, 'merge', thingIdOf(request), pathOf(request), jsonBody(request, 'merge-patch')),
    delete: (request: FastifyRequest, reply: FastifyReply) =>
      run(request, reply, 'delete', thingIdOf(request), pathOf(request)),
  });
  for (const [url, pathOf] of [
    ['/api/2/things/:thingId', resourcePathOf],
    ['/api/2/things/:thingId/*', resourcePathOf],
  ] as const) {
    const h = handlers(pathOf);
    app.get(url, h.get);
    app.put(url, h.put);
    app.patch(url, h.patch);
    app.delete(url, h.delete);
  }
}

const TIMED_OUT = Symbol('timed out');

/** The outcome of `execution`, or TIMED_OUT after `ms` (one timer and one promise: this runs per request). */
function within<T>(execution: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms, TIMED_OUT);
    execution.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}
