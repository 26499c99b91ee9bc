// Artillery processor for the FlowATS scenarios: status bookkeeping for the `ensure` checks
// and unique sign-up emails. Artillery's own counters only say which codes came back; these
// say whether each answer was one the flow expects, so `ensure` can gate on it.
//
// Counters (always reported, starting at 0, so an `ensure` condition never meets a missing
// metric, which it would count as a failure):
//   flowats.unexpected       answers outside what the flow expects (see record() below)
//   flowats.login.served     logins answered 200
//   flowats.login.shed       logins answered 503 with Retry-After (checkShedOk only)
// Histogram (not named flowats.login.shed…: ensure substitutes metric names textually, and
// a counter's name must not be the start of another metric's):
//   flowats.shed_login_ms    time to the first byte of each shed login
'use strict';

let seq = 0;

// Every counter once per virtual user with 0, so each exists in the report.
function initCounters(context, events, done) {
  events.emit('counter', 'flowats.unexpected', 0);
  events.emit('counter', 'flowats.login.served', 0);
  events.emit('counter', 'flowats.login.shed', 0);
  events.emit('counter', 'flowats.register.shed', 0);
  return done();
}

// A fresh address per virtual user, unique across Artillery's worker processes and runs.
function uniqueEmail(context, events, done) {
  seq += 1;
  context.vars.email = `load-${Date.now()}-${process.pid}-${seq}@example.com`;
  return initCounters(context, events, done);
}

function isShed(res) {
  return res.statusCode === 503 && Boolean(res.headers['retry-after']);
}

function record(req, res, events, shedOk) {
  const code = res.statusCode;
  if (req.name === 'login') {
    if (code === 200) {
      events.emit('counter', 'flowats.login.served', 1);
      return;
    }
    if (shedOk && isShed(res)) {
      events.emit('counter', 'flowats.login.shed', 1);
      events.emit('histogram', 'flowats.shed_login_ms', res.timings.phases.firstByte);
      return;
    }
  } else if (code >= 200 && code < 300) {
    return;
  } else if (req.name === 'register' && shedOk && isShed(res)) {
    // A sign-up hashes a password too: shed the same way when the hashing queue is full.
    events.emit('counter', 'flowats.register.shed', 1);
    return;
  }
  events.emit('counter', 'flowats.unexpected', 1);
  events.emit('counter', `flowats.unexpected.${req.name || 'unnamed'}.${code}`, 1);
}

// Scenario-level afterResponse: every answer must be 2xx (a login 200).
function checkStatus(req, res, context, events, done) {
  record(req, res, events, false);
  return done();
}

// The same, except that a login may be shed (503 with Retry-After): the seed profile's peak
// asks for more argon2 hashing than the cores can do, and shedding is the expected answer.
function checkShedOk(req, res, context, events, done) {
  record(req, res, events, true);
  return done();
}

module.exports = { initCounters, uniqueEmail, checkStatus, checkShedOk };
