// Preloaded by scripts/loadtest (NODE_OPTIONS=--require): Artillery 2.0 sends a usage event to
// PostHog after every run, an anonymous one even with ARTILLERY_DISABLE_TELEMETRY set, and
// waits for it before exiting: about 12 s of retries where the network is closed (CI). Here
// the PostHog client is a no-op, so nothing leaves the machine and a run ends when it is done.
'use strict';
const Module = require('module');

class NoPostHog {
  capture() {}
  async shutdownAsync() {}
}

const load = Module._load;
Module._load = function loadWithoutPostHog(request, ...rest) {
  if (request === 'posthog-node') {
    return { PostHog: NoPostHog };
  }
  return load.call(this, request, ...rest);
};
