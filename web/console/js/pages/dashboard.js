// SPDX-License-Identifier: EUPL-1.2
// Live dashboard: messages per second by kind and data type, latency,
// refusals and failures, from GET /v1/admin/stats (every 2 s).

import * as api from '../api.js';
import { LineChart, PALETTE } from '../charts.js';
import { h, every, panel, tile, table, fmtInt, fmtRate, fmtMs, fmtTime, kindLabel, outcomeBadge, errorState, emptyState } from '../dom.js';

export const title = 'Dashboard';

const WINDOWS = [[60, '1 min'], [300, '5 min'], [600, '10 min']];
const KIND_COLORS = { consultation: PALETTE[0], mutation: PALETTE[1], 'feed-read': PALETTE[2], integration: PALETTE[3] };

function sum(arrays, length) {
  const out = new Array(length).fill(0);
  for (const values of arrays) values.forEach((v, i) => { out[i] += v; });
  return out;
}

function lastSeconds(values, seconds) {
  const part = values.slice(-seconds);
  return part.reduce((a, b) => a + b, 0) / Math.max(1, part.length);
}

export function render(root, route) {
  let seconds = Number(route.params.get('window')) || 300;
  if (!WINDOWS.some(([s]) => s === seconds)) seconds = 300;

  const status = h('div');
  const tiles = h('div', { class: 'tiles', dataset: { testid: 'tiles' } });
  const since = h('span', { class: 'hint' });
  const byKind = new LineChart({ yFormat: fmtRate, integer: true, fill: true, emptyText: 'No exchange in this window' });
  const byType = new LineChart({ yFormat: fmtRate, integer: true, emptyText: 'No consultation in this window' });
  const latency = new LineChart({ yFormat: fmtMs, axisFormat: (v) => String(Number(v.toPrecision(3))), emptyText: 'No timed exchange in this window' });
  const errors = new LineChart({ yFormat: fmtRate, integer: true, emptyText: 'No refusal or failure in this window' });
  const totals = h('div');
  const selector = h('div', { class: 'segmented', role: 'group', 'aria-label': 'Window' },
    WINDOWS.map(([s, label]) => h('button', {
      type: 'button', 'aria-pressed': String(s === seconds), text: label,
      onclick: () => { location.hash = `#/dashboard?window=${s}`; },
    })));

  root.append(
    h('div', { class: 'toolbar' }, h('p', { class: 'lede' }, 'What this hub has done, second by second. ', since), h('div', { style: 'margin-left:auto' }, selector)),
    status, tiles,
    h('div', { class: 'grid-2' },
      panel('Messages per second, by kind', 'all outcomes', byKind.element),
      panel('Consultations per second, by data type', null, byType.element),
      panel('Latency', 'milliseconds, per second', latency.element),
      panel('Refusals and failures per second', 'refused: 4xx · failed: 5xx', errors.element)),
    panel('Since the hub started', 'by kind, data type and outcome', totals));

  async function tick() {
    let stats;
    try {
      stats = await api.get(api.query('/v1/admin/stats', { seconds }));
    } catch (error) {
      status.replaceChildren(errorState(error, 'Live figures unavailable'));
      throw error;
    }
    status.replaceChildren();
    since.textContent = `Hub started ${fmtTime(stats.started)}.`;
    const n = stats.seconds;
    const times = Array.from({ length: n }, (_, i) => stats.end - n + 1 + i);

    // Per kind.
    const kinds = new Map();
    for (const s of stats.series) {
      if (!kinds.has(s.kind)) kinds.set(s.kind, []);
      kinds.get(s.kind).push(s.per_second);
    }
    byKind.update({
      times,
      series: [...kinds.entries()].map(([kind, arrays], i) => ({
        name: kindLabel(kind), color: KIND_COLORS[kind] || PALETTE[4 + i], values: sum(arrays, n),
      })),
    });

    // Consultations per data type: the busiest eight, the rest together.
    const types = new Map();
    for (const s of stats.series.filter((s) => s.kind === 'consultation')) {
      if (!types.has(s.data_type)) types.set(s.data_type, []);
      types.get(s.data_type).push(s.per_second);
    }
    const ranked = [...types.entries()].map(([type, arrays]) => [type, sum(arrays, n)])
      .sort((a, b) => b[1].reduce((x, y) => x + y, 0) - a[1].reduce((x, y) => x + y, 0));
    const shown = ranked.slice(0, 8).map(([type, values], i) => ({ name: type || '(none)', color: PALETTE[i], values }));
    if (ranked.length > 8) {
      shown.push({ name: 'other data types', color: PALETTE[8], values: sum(ranked.slice(8).map((r) => r[1]), n), dash: true });
    }
    byType.update({ times, series: shown });

    // Latency: consultations p50 and p99; mutations' p99 when there are some.
    const lat = Object.fromEntries(stats.latency.map((l) => [l.kind, l]));
    const latSeries = [];
    if (lat.consultation && lat.consultation.window.samples > 0) {
      latSeries.push({ name: 'consultation p50', color: PALETTE[0], values: lat.consultation.p50_ms });
      latSeries.push({ name: 'consultation p99', color: PALETTE[4], values: lat.consultation.p99_ms });
    }
    if (lat.mutation && lat.mutation.window.samples > 0) {
      latSeries.push({ name: 'mutation p99', color: PALETTE[1], values: lat.mutation.p99_ms, dash: true });
    }
    if (lat.integration && lat.integration.window.samples > 0) {
      latSeries.push({ name: 'directory batch p99', color: PALETTE[3], values: lat.integration.p99_ms, dash: true });
    }
    latency.update({ times, series: latSeries });

    const refused = sum(stats.series.filter((s) => s.class === 'refused').map((s) => s.per_second), n);
    const failed = sum(stats.series.filter((s) => s.class === 'failed').map((s) => s.per_second), n);
    const anyBad = stats.series.some((s) => s.class !== 'ok');
    errors.update({ times, series: anyBad ? [
      { name: 'refused', color: PALETTE[5], values: refused },
      { name: 'failed', color: PALETTE[4], values: failed },
    ] : [] });

    // Tiles: totals since start, and the rate over the last minute.
    const total = (pred) => stats.totals.filter(pred).reduce((a, t) => a + t.count, 0);
    const rate = (pred) => lastSeconds(sum(stats.series.filter(pred).map((s) => s.per_second), n), 60);
    const consultation = (t) => t.kind === 'consultation';
    tiles.replaceChildren(
      tile('Consultations', fmtInt(total(consultation)), `${fmtRate(rate(consultation))}/s over the last minute`),
      tile('Refused consultations', fmtInt(total((t) => consultation(t) && t.class === 'refused')), 'not integrated, not authorized…'),
      tile('Mutations accepted', fmtInt(total((t) => t.kind === 'mutation' && t.outcome === 'ok')),
        `${fmtRate(rate((t) => t.kind === 'mutation'))}/s over the last minute`),
      tile('Feed reads', fmtInt(total((t) => t.kind === 'feed-read'))),
      tile('Directory batches', fmtInt(total((t) => t.kind === 'integration'))),
      tile('Failures', fmtInt(total((t) => t.class === 'failed')), 'providers or hub unavailable', total((t) => t.class === 'failed') > 0 ? 'bad' : ''),
      tile('Consultation p99', fmtMs(lat.consultation ? lat.consultation.window.p99_ms : null), `p50 ${fmtMs(lat.consultation ? lat.consultation.window.p50_ms : null)} in this window`));

    const rows = [...stats.totals].sort((a, b) => b.count - a.count);
    totals.replaceChildren(rows.length === 0
      ? emptyState('No exchange yet', 'Consultations, mutations, feed reads and directory batches appear here as institutions use the hub.')
      : table([
        { title: 'Kind', cell: (r) => kindLabel(r.kind) },
        { title: 'Data type', cell: (r) => h('span', { class: 'mono', text: r.data_type || '–' }) },
        { title: 'Outcome', cell: (r) => outcomeBadge(r.outcome, r.class) },
        { title: 'Count', num: true, cell: (r) => fmtInt(r.count) },
      ], rows, { 'data-testid': 'totals' }));
  }

  const stopPolling = every(2000, tick);
  return () => { stopPolling(); [byKind, byType, latency, errors].forEach((c) => c.dispose()); };
}
