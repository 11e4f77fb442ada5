/**
 * MQTT.js and mqtt-packet trace every packet they parse and write through the `debug` module, about a dozen
 * calls per packet. Disabled, each call still costs a function call and an array for its arguments:
 * measured, ~4 % of the service's allocations at 10,000 telemetry messages/s. So when `DEBUG` is unset at
 * start (nothing would be printed anyway), `require('debug')` hands out loggers that do nothing, before
 * MQTT.js is loaded (this module is imported ahead of it). With `DEBUG` set, the real module is kept.
 */
import { createRequire } from 'node:module';

if (!process.env.DEBUG) {
  const require = createRequire(createRequire(import.meta.url).resolve('mqtt-packet'));
  const id = require.resolve('debug');
  const real = require(id) as Record<string, unknown>;
  const off = Object.assign(() => undefined, {
    enabled: false,
    log: () => undefined,
    destroy: () => true,
    extend: () => off,
  });
  // The module's own API (enable, disable, …) stays; each new logger is `off`.
  const quiet: Record<string, unknown> = Object.assign(() => off, real);
  quiet.default = quiet;
  quiet.debug = quiet;
  const cached = require.cache[id];
  if (cached) cached.exports = quiet;
}
