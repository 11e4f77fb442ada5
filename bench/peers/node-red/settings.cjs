// Node-RED settings of the MQTT benchmark's peer (bench/peers/node-red.ts passes them with --settings; the
// flow comes from the temporary user directory, a copy of flows.json beside this file). Headless: with
// httpRoot false Node-RED opens no HTTP server at all, so there is no editor, admin API or HTTP-in route
// to expose; it only connects to the benchmark's Mosquitto on loopback. Nothing is installed, sent or
// persisted at run time.
/* global module */
module.exports = {
  flowFile: 'flows.json',
  credentialSecret: false,
  httpRoot: false,
  logging: { console: { level: 'warn', metrics: false, audit: false } },
  functionTimeout: 0,
  globalFunctionTimeout: 0,
  functionExternalModules: false,
  externalModules: { autoInstall: false, palette: { allowInstall: false }, modules: { allowInstall: false } },
  diagnostics: { enabled: false, ui: false },
  runtimeState: { enabled: false, ui: false },
  telemetry: { enabled: false, updateNotification: false },
};
