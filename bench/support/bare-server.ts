/**
 * The baseline of bench/http.ts: bare fastify routes with no auth, store or policy. GET answers the same
 * thing JSON from memory; PUT of a feature property parses the JSON body as fastify does and answers 204,
 * as Twinbridge does for an existing property, without keeping anything. Prints its address as JSON on stdout.
 */
import Fastify from 'fastify';

const thing = JSON.parse(process.argv[2] ?? '{}') as unknown;
const body = JSON.stringify(thing);
const app = Fastify({ logger: false });
app.get('/api/2/things/:thingId', async (_request, reply) =>
  reply.type('application/json').header('etag', '"rev:1"').send(body),
);
app.put('/api/2/things/:thingId/features/:featureId/properties/*', async (_request, reply) =>
  reply.code(204).header('etag', '"rev:2"').send(),
);
const address = await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(JSON.stringify({ address }) + '\n');
