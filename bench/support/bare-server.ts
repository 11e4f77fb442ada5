/**
 * The baseline of bench/http.ts: a bare fastify route answering the same thing JSON from memory, with
 * no auth, store or policy. Prints its address as JSON on stdout.
 */
import Fastify from 'fastify';

const thing = JSON.parse(process.argv[2] ?? '{}') as unknown;
const body = JSON.stringify(thing);
const app = Fastify({ logger: false });
app.get('/api/2/things/:thingId', async (_request, reply) => reply.type('application/json').header('etag', '"rev:1"').send(body));
const address = await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(JSON.stringify({ address }) + '\n');
