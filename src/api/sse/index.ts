/**
 * Server-Sent Events (ditto-interfaces.md §6): any of these GET routes with `Accept: text/event-stream`
 * opens a stream; without it the request reaches the JSON routes of the same path. The choice is made by
 * the router constraint `variant` (value `sse`), so the JSON routes are untouched.
 *   /api/2/things                     changes of all readable things (`ids`, `namespaces`, `filter`, …)
 *   /api/2/things/{id}[/{pointer}]    changes of one thing (data = the value at the pointer)
 *   /api/2/things/{id}[/features/{fid}]/{inbox|outbox}/messages[/{subject}]   live messages
 *   /api/2/search/things              search results, `id` = thingId, resumable
 * Consumer groups (§15): `group=<name>` shares the change events among the streams of the group.
 * History (ditto: basic-history): with `from-historical-revision`, `to-historical-revision`,
 * `from-historical-timestamp` or `to-historical-timestamp`, a stream of one thing (`/things/{id}[/{pointer}]`
 * or `/things?ids={id}`) sends its persisted events in that range, rendered like live changes (`fields`
 * with `_context`, `filter`, `extraFields` from the thing as it was), and ends.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { thingIdInvalid, thingIdsMissing } from '../../errors/things.js';
import { bodyOf } from '../../live/payload.js';
import { isValidNamespacedId } from '../../model/ids.js';
import type { ThingMessage } from '../../model/signals.js';
import type { Services } from '../../services.js';
import { compileSubscription, type Subscription } from '../../streaming/subscription.js';
import { parseFieldSelector } from '../../util/field-selector.js';
import { parsePointer } from '../../util/json-pointer.js';
import { routeNotFound } from '../../errors/gateway.js';
import { logFailure, toDittoError } from '../http/errors.js';
import { jsonFormatInvalid } from '../../errors/general.js';
import { openThingHistory } from '../../history/events.js';
import { rangeOf } from '../../history/history.js';
import { dittoHeadersOf } from '../http/headers.js';
import { needsSignalRoute, SIGNAL_VARIANT } from '../../live/http.js';
import { SubjectLimit } from '../subject-limit.js';

const SSE_VARIANT = 'sse';
import { streamSearch } from './search.js';
import { SseStream } from './stream.js';
import {
  historyRequestOf,
  parseEventId,
  renderThingEvent,
  subscribeWithResume,
  writeHistory,
} from './things.js';

export interface SseRoutesOptions {
  services: Pick<
    Services,
    'store' | 'things' | 'registry' | 'policies' | 'search' | 'config' | 'historyEvents' | 'logger'
  >;
}

/**
 * The router constraint `variant` that picks the route for the same path by what the request asks for:
 * `sse` for `Accept: text/event-stream` (this plugin), `signal` for the live channel and requested
 * acknowledgements (src/live/http.ts); other requests match the plain JSON routes.
 */
export function registerVariantConstraint(app: FastifyInstance): void {
  app.addConstraintStrategy({
    name: 'variant',
    storage() {
      const stores = new Map<string, unknown>();
      return {
        get: (value: string) => (stores.get(value) ?? null) as never,
        set: (value: string, store: unknown) => void stores.set(value, store),
      };
    },
    deriveConstraint: (request: {
      url?: string;
      method?: string;
      headers: Record<string, string | string[] | undefined>;
    }) => {
      const accept = request.headers.accept;
      if (request.method === 'GET' && typeof accept === 'string' && accept.includes('text/event-stream'))
        return SSE_VARIANT;
      return needsSignalRoute(request.url ?? '', request.headers) ? SIGNAL_VARIANT : undefined;
    },
    mustMatchWhenDerived: false,
  });
}

// ditto: §13 SSE buffer 100 events; here: bytes waiting in the socket before the stream is ended.
const MAX_BUFFERED_BYTES = 1024 * 1024;
const MESSAGES_PATH = /^(?:features\/([^/]+)\/)?(inbox|outbox)\/messages(?:\/(.+))?$/;

type Query = Record<string, string | undefined>;

export async function sseRoutes(app: FastifyInstance, options: SseRoutesOptions): Promise<void> {
  const { services } = options;
  const constraints = { variant: SSE_VARIANT };
  const streams = new Set<SseStream>();
  const opened = new WeakMap<FastifyRequest, SseStream>();
  const perUser = new SubjectLimit(services.config.sseMaxStreamsPerSubject ?? 100, 'SSE streams');
  /** Opens the stream (the response is taken over); throws 429 first when the user has too many open. */
  const open = (request: FastifyRequest, reply: FastifyReply) => {
    const release = perUser.acquire(request.auth);
    const stream = new SseStream(request, reply, {
      heartbeatMs: services.config.sseHeartbeatMs ?? 1000,
      maxBufferedBytes: MAX_BUFFERED_BYTES,
    });
    streams.add(stream);
    opened.set(request, stream);
    stream.onClose(() => {
      streams.delete(stream);
      release();
    });
    return stream;
  };
  // Open streams would keep the server from closing: end them first (clients may reconnect elsewhere).
  app.addHook('preClose', async () => {
    for (const stream of [...streams]) stream.end();
  });
  const resumeDeps = {
    store: services.store,
    things: services.things,
    registry: services.registry,
    policies: services.policies,
  };

  /** Validates the query (before the stream opens, so errors are plain HTTP errors) and subscribes. */
  const thingsStream = async (
    request: FastifyRequest,
    reply: FastifyReply,
    thingId: string | undefined,
    pointer: string[] | undefined,
  ) => {
    const query = request.query as Query;
    const subscription = compileSubscription('events', query);
    const fields =
      query.fields === undefined || query.fields === '' ? undefined : parseFieldSelector(query.fields);
    let ids: Set<string> | undefined;
    if (thingId !== undefined) ids = new Set([thingId]);
    else if (query.ids !== undefined) {
      ids = new Set(
        query.ids
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      );
      if (ids.size === 0) throw thingIdsMissing();
      for (const id of ids) if (!isValidNamespacedId(id)) throw thingIdInvalid({ id });
    }
    const pointerPath = pointer === undefined ? undefined : '/' + pointer.join('/');
    const history = historyRequestOf(query);
    if (history !== undefined) {
      if (ids === undefined || ids.size !== 1)
        throw ids === undefined
          ? thingIdsMissing()
          : jsonFormatInvalid({
              detail: 'A stream of historical events streams one thing: give one thing ID.',
            });
      const [id] = ids;
      const correlationId = dittoHeadersOf(request)['correlation-id'];
      // ★ A client that reconnects (EventSource does once a stream ends) resumes after its last event;
      // with nothing left it gets 204, which tells an EventSource to stop reconnecting.
      const resumed = parseEventId(headerOf(request, 'last-event-id'));
      if (resumed?.thingId === id) history.afterRevision = resumed.revision;
      // Checks (404 without READ) before the stream opens, so they answer as HTTP errors.
      const sources = await openThingHistory(
        services.historyEvents,
        id,
        pointerPath ?? '/',
        history,
        request.auth,
        { 'correlation-id': correlationId },
      );
      const current = await services.store.get('thing', id);
      if (
        resumed?.thingId === id &&
        current !== undefined &&
        resumed.revision >= Math.min(current.revision, rangeOf(history, current.revision).toRevision)
      )
        return reply.code(204).send();
      if (pointerPath !== undefined) subscription.match = (_id, path) => touches(path, pointerPath);
      const stream = open(request, reply);
      const spec = { ...(fields ? { fields } : {}), ...(pointer ? { pointer } : {}) };
      stream.render = (delivery) => renderThingEvent(delivery, spec);
      await writeHistory(stream, sources, subscription).catch((err: unknown) =>
        services.logger.error({ err, correlationId }, 'streaming historical events failed'),
      );
      return;
    }
    if (ids !== undefined || pointerPath !== undefined) {
      subscription.match = (id, path) => {
        if (ids !== undefined && !ids.has(id)) return false;
        if (pointerPath === undefined) return true;
        return touches(path, pointerPath);
      };
    }
    const stream = open(request, reply);
    const spec = { ...(fields ? { fields } : {}), ...(pointer ? { pointer } : {}) };
    stream.render = (delivery) => renderThingEvent(delivery, spec);
    stream.onClose(() => services.registry.remove(stream));
    const lastEventId = headerOf(request, 'last-event-id');
    await subscribeWithResume(resumeDeps, stream, subscription, lastEventId);
  };

  const messagesStream = (
    request: FastifyRequest,
    reply: FastifyReply,
    thingId: string,
    m: RegExpExecArray,
  ) => {
    const [, featureId, mailbox, subject] = m;
    const subscription: Subscription = compileSubscription('messages', request.query as Query);
    const prefix = `${featureId === undefined ? '' : `/features/${featureId}`}/${mailbox}/messages/`;
    subscription.match = (id, path) =>
      id === thingId && path.startsWith(prefix) && (subject === undefined || path === prefix + subject);
    const stream = open(request, reply);
    stream.render = (delivery) => {
      const message = delivery.signal as ThingMessage;
      if (message.status !== undefined) return undefined;
      const contentType = message.headers['content-type'];
      const body = bodyOf(message.payload, contentType);
      return { event: message.subject, data: body === undefined ? '' : body.toString('utf8') };
    };
    stream.onClose(() => services.registry.remove(stream));
    services.registry.subscribe(stream, subscription);
  };

  /**
   * Errors before the stream opens are plain HTTP errors (the error handler); after it opened, the error
   * is the stream's last event (and a 5xx is logged once, as any other).
   */
  const guarded =
    (handler: (request: FastifyRequest, reply: FastifyReply) => Promise<void> | void) =>
    async (request: FastifyRequest, reply: FastifyReply) => {
      try {
        await handler(request, reply);
      } catch (err) {
        const stream = opened.get(request);
        if (!stream) throw err;
        const error = toDittoError(err, request);
        logFailure(request, error);
        stream.write({ data: JSON.stringify(error.toJSON()) });
        stream.end();
      }
    };

  app.get(
    '/api/2/things',
    { constraints },
    guarded((request, reply) => thingsStream(request, reply, undefined, undefined)),
  );
  app.get(
    '/api/2/things/:thingId',
    { constraints },
    guarded((request, reply) => thingsStream(request, reply, thingIdOf(request), undefined)),
  );
  app.get(
    '/api/2/things/:thingId/*',
    { constraints },
    guarded(async (request, reply) => {
      const thingId = thingIdOf(request);
      const rest = ((request.params as Record<string, string>)['*'] ?? '').replace(/\/+$/, '');
      const m = MESSAGES_PATH.exec(rest);
      if (m) return messagesStream(request, reply, thingId, m);
      let pointer: string[];
      try {
        pointer = parsePointer('/' + rest);
      } catch {
        throw routeNotFound({ path: request.url.split('?')[0] });
      }
      return thingsStream(request, reply, thingId, pointer);
    }),
  );
  app.get(
    '/api/2/search/things',
    { constraints },
    guarded((request, reply) =>
      streamSearch(services.search, request, () => open(request, reply), headerOf(request, 'last-event-id')),
    ),
  );
}

/** Whether a change at `path` touches `pointer`: at it, below it, or at an ancestor that contains it. */
function touches(path: string, pointer: string): boolean {
  return path === '/' || path === pointer || path.startsWith(pointer + '/') || pointer.startsWith(path + '/');
}

function thingIdOf(request: FastifyRequest): string {
  const { thingId } = request.params as { thingId: string };
  if (!isValidNamespacedId(thingId)) throw thingIdInvalid({ id: thingId });
  return thingId;
}

function headerOf(request: FastifyRequest, name: string): string | undefined {
  const v = request.headers[name];
  return typeof v === 'string' ? v : undefined;
}
