#!/usr/bin/env node
// The summary table of one Artillery run, in Markdown, from its JSON report
// (`artillery run --output`): the seed's "Load Test Results" (scenarios, requests,
// min/median/p95/p99/max, errors) per request name, the answers by status code and the
// errors by code, logins served and shed, a timeline of Artillery's 10 s periods, the
// `ensure` checks (from the run's log) and the CPU the client and the server used.
//
// Usage: node summarize.js --report R.json [--log R.log] [--title T] [--command C]
//          [--client-cpu SECONDS] [--server-cpu SECONDS] [--machine-cpu SECONDS] [--exit CODE]
// --machine-cpu: the busy time of the whole machine meanwhile (/proc/stat), so the summary
// can say how much CPU other processes took from the client and the server.
'use strict';
const fs = require('fs');

const PREFIX = 'plugins.metrics-by-endpoint.';

function parseArgs(argv) {
  const args = {};
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--') || i + 1 >= argv.length) {
      throw new Error(`summarize.js: bad argument ${argv[i]}`);
    }
    args[argv[i].slice(2)] = argv[i + 1];
  }
  if (!args.report) throw new Error('summarize.js: --report is required');
  return args;
}

const ms = (v) => (v === undefined || v === null ? '–' : Number(v).toFixed(1));
const sum = (obj, test) =>
  Object.entries(obj).reduce((n, [k, v]) => (test(k) ? n + v : n), 0);

// "200: 12, 503: 3" from counters named `${base}<code>`.
function codes(counters, base) {
  const parts = Object.entries(counters)
    .filter(([k]) => k.startsWith(base))
    .map(([k, v]) => [k.slice(base.length), v])
    .sort(([a], [b]) => a.localeCompare(b));
  return parts.length ? parts.map(([c, v]) => `${c}: ${v}`).join(', ') : 'none';
}

function requestNames(summaries) {
  const base = `${PREFIX}response_time.`;
  return Object.keys(summaries)
    .filter((k) => k.startsWith(base))
    .map((k) => k.slice(base.length));
}

function latencyRow(label, s, codeText, errors) {
  if (!s) return `| ${label} | 0 | – | – | – | – | – | ${codeText} | ${errors} |`;
  return `| ${label} | ${s.count} | ${ms(s.min)} | ${ms(s.median)} | ${ms(s.p95)} | ${ms(s.p99)} | ${ms(s.max)} | ${codeText} | ${errors} |`;
}

function requestTable(agg) {
  const c = agg.counters;
  const lines = [
    '| request | count | min ms | median ms | p95 ms | p99 ms | max ms | answers by code | errors by code |',
    '|---|---:|---:|---:|---:|---:|---:|---|---|',
  ];
  for (const name of requestNames(agg.summaries)) {
    lines.push(
      latencyRow(
        name,
        agg.summaries[`${PREFIX}response_time.${name}`],
        codes(c, `${PREFIX}${name}.codes.`),
        codes(c, `${PREFIX}${name}.errors.`)
      )
    );
  }
  lines.push(
    latencyRow('**all**', agg.summaries['http.response_time'], codes(c, 'http.codes.'), codes(c, 'errors.'))
  );
  return lines.join('\n');
}

function periodSeconds(p) {
  return Math.max(1, (Number(p.lastMetricAt) - Number(p.firstMetricAt)) / 1000);
}

function timeline(report) {
  const periods = report.intermediate || [];
  if (periods.length === 0) return '(no periods)';
  const t0 = Number(periods[0].firstMetricAt);
  const lines = [
    '| from s | to s | users started | requests | req/s | logins served/s | logins shed | answers by code | errors | p99 ms | max ms |',
    '|---:|---:|---:|---:|---:|---:|---:|---|---|---:|---:|',
  ];
  for (const p of periods) {
    const c = p.counters || {};
    const s = (p.summaries || {})['http.response_time'] || {};
    const from = (Number(p.firstMetricAt) - t0) / 1000;
    const to = (Number(p.lastMetricAt) - t0) / 1000;
    const served = c['flowats.login.served'] || 0;
    lines.push(
      `| ${from.toFixed(0)} | ${to.toFixed(0)} | ${c['vusers.created'] || 0} | ${c['http.requests'] || 0} | ` +
        `${((c['http.responses'] || 0) / periodSeconds(p)).toFixed(1)} | ${(served / periodSeconds(p)).toFixed(1)} | ` +
        `${c['flowats.login.shed'] || 0} | ${codes(c, 'http.codes.')} | ${codes(c, 'errors.')} | ${ms(s.p99)} | ${ms(s.max)} |`
    );
  }
  return lines.join('\n');
}

function checks(logPath) {
  if (!logPath || !fs.existsSync(logPath)) return [];
  // eslint-disable-next-line no-control-regex
  const plain = fs.readFileSync(logPath, 'utf8').replace(/\x1b\[[0-9;]*m/g, '');
  return plain.split('\n').filter((l) => /^(ok|fail): /.test(l));
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  const report = JSON.parse(fs.readFileSync(args.report, 'utf8'));
  const agg = report.aggregate;
  const c = agg.counters;
  const wall = (Number(agg.lastMetricAt) - Number(agg.firstMetricAt)) / 1000;
  const out = [];
  out.push(`## ${args.title || args.report}`, '');
  if (args.command) out.push(`Command: \`${args.command}\``, '');
  out.push(
    `Scenarios launched: ${c['vusers.created'] || 0}, completed: ${c['vusers.completed'] || 0}, ` +
      `failed: ${c['vusers.failed'] || 0}. Requests completed: ${c['http.responses'] || 0} ` +
      `of ${c['http.requests'] || 0} sent, over ${wall.toFixed(0)} s.`
  );
  out.push(`Answers by code: ${codes(c, 'http.codes.')}. Errors (no answer) by code: ${codes(c, 'errors.')}.`);
  if (c['flowats.unexpected']) {
    out.push(`Unexpected answers: ${c['flowats.unexpected']} (${codes(c, 'flowats.unexpected.')}).`);
  }
  const served = c['flowats.login.served'] || 0;
  const shed = c['flowats.login.shed'] || 0;
  const shedMs = agg.summaries['flowats.shed_login_ms'];
  out.push(
    `Logins: ${served} served (${wall > 0 ? (served / wall).toFixed(1) : '–'}/s over the run), ${shed} shed` +
      (shedMs ? ` (503 + Retry-After, p99 ${ms(shedMs.p99)} ms, max ${ms(shedMs.max)} ms).` : '.')
  );
  const cpu = [];
  if (args['client-cpu']) {
    const s = Number(args['client-cpu']);
    cpu.push(`Artillery (client, its start-up included) ${s.toFixed(1)} s${wall > 0 ? ` = ${(s / wall).toFixed(2)} cores` : ''}`);
  }
  if (args['server-cpu']) {
    const s = Number(args['server-cpu']);
    cpu.push(`server ${s.toFixed(1)} s${wall > 0 ? ` = ${(s / wall).toFixed(2)} cores` : ''}`);
  }
  if (args['machine-cpu'] && args['client-cpu'] && args['server-cpu']) {
    // The machine's busy time less ours: what other processes took while this ran.
    const other = Math.max(0, Number(args['machine-cpu']) - Number(args['client-cpu']) - Number(args['server-cpu']));
    cpu.push(`other processes ${other.toFixed(1)} s${wall > 0 ? ` = ${(other / wall).toFixed(2)} cores` : ''}`);
  }
  if (cpu.length) out.push(`CPU over the run's ${wall.toFixed(0)} s: ${cpu.join(', ')}.`);
  out.push('', requestTable(agg), '', 'Latencies are to the first byte of the answer, in ms, as Artillery measures them.', '');
  out.push('### Timeline (Artillery\'s 10 s periods)', '', timeline(report), '');
  const checkLines = checks(args.log);
  out.push('### `ensure` checks', '');
  if (checkLines.length) checkLines.forEach((l) => out.push(`- ${l}`));
  else out.push('- (none reported)');
  if (args.exit !== undefined) out.push('', `Artillery exit status: ${args.exit}.`);
  process.stdout.write(out.join('\n') + '\n');
}

main();
