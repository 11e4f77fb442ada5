/**
 * RabbitMQ topology the AMQP 0.9.1 and 1.0 conformance drivers need, declared synchronously (the suite's
 * `connection()` is synchronous, so a short child process with amqplib does it): the prefix's source
 * queue, its events fanout exchange and the consumer's events queue, all durable.
 */
import { execFileSync } from 'node:child_process';

export function declareConformanceTopology(url: string, prefix: string): void {
  const script = `const amqp=require('amqplib');const s=JSON.parse(require('fs').readFileSync(0,'utf8'));
(async()=>{const c=await amqp.connect(s.url);const ch=await c.createChannel();
await ch.assertQueue(s.prefix+'.telemetry',{durable:true});await ch.assertQueue(s.prefix+'.events',{durable:true});
await ch.assertExchange(s.prefix,'fanout',{durable:true});await ch.bindQueue(s.prefix+'.events',s.prefix,'');await c.close();})()
.catch((e)=>{console.error(e.message);process.exit(1);});`;
  execFileSync(process.execPath, ['-e', script], {
    input: JSON.stringify({ url, prefix }),
    cwd: process.cwd(),
    stdio: ['pipe', 'ignore', 'inherit'],
    timeout: 20_000,
  });
}
