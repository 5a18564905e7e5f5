// SPDX-License-Identifier: EUPL-1.2
// Network map: the institutions of the definition around the hub, and the
// flows between them since the hub started (GET /v1/admin/flows, every 5 s),
// drawn as inline SVG.

import * as api from '../api.js';
import { PALETTE } from '../charts.js';
import { h, every, panel, table, fmtInt, fmtTime, ago, kindLabel, errorState, emptyState, institutionLink } from '../dom.js';

export const title = 'Network map';

const KIND_COLORS = { consultation: PALETTE[0], mutation: PALETTE[1], 'feed-read': PALETTE[2], integration: PALETTE[3] };
// Institution types: calm colours, none that reads as an error.
const TYPE_COLORS = ['#3a78c2', '#2f9e62', '#8e6bbf', '#b7791f', '#4a9d9c', '#a0479a', '#5c6f7f', '#d17a22', '#6d8f2e', '#c25b7a'];
const W = 1000;
const H = 660;
const CX = W / 2;
const CY = H / 2;

function svg(tag, attrs, ...children) { return h(`svg:${tag}`, attrs, ...children); }

function layout(institutions) {
  // Grouped by type, so that institutions of one kind sit together.
  const sorted = [...institutions].sort((a, b) => a.type.localeCompare(b.type) || a.id.localeCompare(b.id));
  const positions = new Map();
  sorted.forEach((institution, i) => {
    const angle = -Math.PI / 2 + (2 * Math.PI * i) / Math.max(1, sorted.length);
    positions.set(institution.id, { x: CX + 380 * Math.cos(angle), y: CY + 255 * Math.sin(angle), angle });
  });
  positions.set('hub', { x: CX, y: CY, angle: 0 });
  return positions;
}

function drawMap(data) {
  const types = [...new Set(data.institutions.map((i) => i.type))].sort();
  const typeColor = new Map(types.map((t, i) => [t, TYPE_COLORS[i % TYPE_COLORS.length]]));
  const pos = layout(data.institutions);
  const flows = data.flows.filter((f) => pos.has(f.from) && pos.has(f.to));
  const max = Math.max(1, ...flows.map((f) => f.messages));
  const names = new Map(data.institutions.map((i) => [i.id, i.name]));

  const defs = svg('defs', {}, Object.entries(KIND_COLORS).map(([kind, color]) =>
    svg('marker', { id: `arrow-${kind}`, viewBox: '0 0 10 10', refX: 8, refY: 5, markerWidth: 10, markerHeight: 10, markerUnits: 'userSpaceOnUse', orient: 'auto-start-reverse' },
      svg('path', { d: 'M0,0 L10,5 L0,10 z', fill: color }))));

  const edges = svg('g', {});
  const labels = svg('g', {});
  const kinds = Object.keys(KIND_COLORS);
  // Numbers on the busiest lines only (the table has them all).
  const labelled = new Set(flows.slice().sort((a, b) => b.messages - a.messages).slice(0, 10)
    .filter((f) => f.messages >= max * 0.2));
  for (const flow of flows.sort((a, b) => b.messages - a.messages)) {
    const a = pos.get(flow.from);
    const b = pos.get(flow.to);
    const color = KIND_COLORS[flow.kind] || '#8a96a3';
    const width = 1.5 + 6 * Math.sqrt(flow.messages / max);
    // Stop short of the circles so that arrowheads show.
    const shorten = (p, q, by) => {
      const dx = q.x - p.x; const dy = q.y - p.y; const d = Math.hypot(dx, dy) || 1;
      return { x: p.x + (dx / d) * by, y: p.y + (dy / d) * by };
    };
    let d; let mid;
    if (flow.from === 'hub' || flow.to === 'hub') {
      const offset = (kinds.indexOf(flow.kind) - 1.5) * 7;
      const inst = flow.from === 'hub' ? b : a;
      const nx = -(inst.y - CY); const ny = inst.x - CX; const nl = Math.hypot(nx, ny) || 1;
      const shift = (p) => ({ x: p.x + (nx / nl) * offset, y: p.y + (ny / nl) * offset });
      const p = shorten(shift(a), shift(b), flow.from === 'hub' ? 42 : 26);
      const q = shorten(shift(b), shift(a), flow.to === 'hub' ? 42 : 26);
      d = `M${p.x},${p.y} L${q.x},${q.y}`;
      mid = { x: (p.x + q.x) / 2, y: (p.y + q.y) / 2 };
    } else {
      // A curve bent towards the hub: every exchange goes through it.
      const bend = 0.25 + 0.08 * kinds.indexOf(flow.kind);
      const mx = (a.x + b.x) / 2; const my = (a.y + b.y) / 2;
      const c = { x: mx + (CX - mx) * bend * 2, y: my + (CY - my) * bend * 2 };
      const p = shorten(a, c, 26);
      const q = shorten(b, c, 26);
      d = `M${p.x},${p.y} Q${c.x},${c.y} ${q.x},${q.y}`;
      mid = { x: 0.25 * p.x + 0.5 * c.x + 0.25 * q.x, y: 0.25 * p.y + 0.5 * c.y + 0.25 * q.y };
    }
    const detail = `${flow.from} → ${flow.to} · ${kindLabel(flow.kind).toLowerCase()} · ${fmtInt(flow.messages)} ` +
      `(${fmtInt(flow.refused)} refused, ${fmtInt(flow.failed)} failed) · last ${ago(flow.last)}`;
    edges.append(svg('path', {
      class: 'edge', d, stroke: color, 'stroke-width': width.toFixed(1),
      'marker-end': KIND_COLORS[flow.kind] ? `url(#arrow-${flow.kind})` : null,
      dataset: { from: flow.from, to: flow.to, kind: flow.kind },
    }, svg('title', { text: detail })));
    if (labelled.has(flow)) {
      labels.append(svg('text', { class: 'edge-label', x: mid.x, y: mid.y, 'text-anchor': 'middle', 'dominant-baseline': 'middle', text: fmtInt(flow.messages) }));
    }
  }

  const nodes = svg('g', {});
  for (const institution of data.institutions) {
    const p = pos.get(institution.id);
    const below = Math.sin(p.angle) > -0.2;
    const name = institution.name.length > 30 ? `${institution.name.slice(0, 29)}…` : institution.name;
    nodes.append(svg('g', { class: 'node', transform: `translate(${p.x},${p.y})`, dataset: { institution: institution.id } },
      svg('title', { text: `${institution.id} — ${institution.name} (${institution.type})` }),
      svg('circle', { r: 20, fill: typeColor.get(institution.type) }),
      svg('text', { y: below ? 36 : -30, 'text-anchor': 'middle', text: institution.id }),
      svg('text', { class: 'sub', y: below ? 50 : -44, 'text-anchor': 'middle', text: name })));
  }
  nodes.append(svg('g', { class: 'node hub', transform: `translate(${CX},${CY})` },
    svg('title', { text: 'the hub: routes, checks and logs every exchange' }),
    svg('circle', { r: 38 }),
    svg('text', { 'text-anchor': 'middle', 'dominant-baseline': 'middle', text: 'hub' })));

  const legend = h('div', { class: 'legend' },
    Object.entries(KIND_COLORS).map(([kind, color]) => h('span', {}, h('i', { style: `background:${color}` }), kindLabel(kind))),
    h('span', { class: 'muted', text: '· line width grows with the number of messages; numbers on the busiest' }));
  const typeLegend = h('div', { class: 'legend' },
    types.map((t) => h('span', {}, h('i', { style: `background:${typeColor.get(t)};height:10px;width:10px;border-radius:50%` }), t)));
  return { names, element: h('div', {}, legend, typeLegend,
    svg('svg', { class: 'map', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'Institutions and the flows between them', 'data-testid': 'map' },
      defs, edges, labels, nodes)) };
}

export function render(root) {
  const status = h('div');
  const mapBox = h('div');
  const flowsBox = h('div');
  const since = h('span', { class: 'hint' });
  root.append(
    h('p', { class: 'lede' }, 'Institutions of the network definition and the exchanges between them since the hub started: consultations from requester to provider, mutations from source to subscriber, directory batches to the hub and feed reads from it. Hover a line for its figures.'),
    status,
    panel('Map', null, mapBox),
    h('section', { class: 'panel' }, h('div', { class: 'panel-head' }, h('h2', { text: 'Flows' }), since), flowsBox));

  async function tick() {
    let data;
    try {
      data = await api.get('/v1/admin/flows');
    } catch (error) {
      status.replaceChildren(errorState(error, 'Flows unavailable'));
      throw error;
    }
    status.replaceChildren();
    since.textContent = `since ${fmtTime(data.since)}`;
    const { names, element } = drawMap(data);
    mapBox.replaceChildren(element);
    const rows = [...data.flows].sort((a, b) => b.messages - a.messages);
    flowsBox.replaceChildren(rows.length === 0
      ? emptyState('No exchange yet', 'Flows appear as soon as institutions consult, publish mutations, read their feeds or declare files.')
      : table([
        { title: 'Kind', cell: (f) => kindLabel(f.kind) },
        { title: 'From', cell: (f) => institutionLink(f.from, names) },
        { title: 'To', cell: (f) => institutionLink(f.to, names) },
        { title: 'Messages', num: true, cell: (f) => fmtInt(f.messages) },
        { title: 'Refused', num: true, cell: (f) => fmtInt(f.refused) },
        { title: 'Failed', num: true, cell: (f) => fmtInt(f.failed) },
        { title: 'Latest', cell: (f) => ago(f.last) },
      ], rows, { 'data-testid': 'flows' }));
  }
  return every(5000, tick);
}
