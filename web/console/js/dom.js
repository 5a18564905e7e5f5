// SPDX-License-Identifier: EUPL-1.2
// Small DOM and formatting helpers shared by the pages. No framework: h()
// builds elements, text is always set as text (never parsed as HTML), so
// nothing the hub returns can inject markup.

export function h(tag, attrs = {}, ...children) {
  const svg = tag.startsWith('svg:');
  const el = svg ? document.createElementNS('http://www.w3.org/2000/svg', tag.slice(4))
                 : document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.setAttribute('class', value);
    else if (key === 'text') el.textContent = value;
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

// Replaces the children of `el`; null, undefined and false are skipped.
export function fill(el, ...children) {
  clear(el);
  append(el, children);
  return el;
}

// ---- formatting -----------------------------------------------------------

const numberFormat = new Intl.NumberFormat('en-GB');
export function fmtInt(n) { return n === null || n === undefined ? '–' : numberFormat.format(n); }

export function fmtRate(n) {
  if (n === null || n === undefined) return '–';
  if (n === 0) return '0';
  if (n < 10) return n.toFixed(1);
  return numberFormat.format(Math.round(n));
}

export function fmtMs(ms) {
  if (ms === null || ms === undefined) return '–';
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 100) return `${ms.toFixed(1)} ms`;
  if (ms < 10000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(1)} s`;
}

export function fmtAge(seconds) {
  if (seconds === null || seconds === undefined) return '–';
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
  return `${Math.floor(seconds / 86400)} d ${Math.floor((seconds % 86400) / 3600)} h`;
}

// "2025-03-01T10:20:30.123456Z" -> "2025-03-01 11:20:30" in the viewer's zone.
export function fmtTime(text) {
  if (!text) return '–';
  const d = new Date(text);
  if (Number.isNaN(d.getTime())) return text;
  const pad = (v) => String(v).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
         `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function ago(text) {
  if (!text) return '–';
  const seconds = (Date.now() - new Date(text).getTime()) / 1000;
  if (!Number.isFinite(seconds)) return text;
  if (seconds < 2) return 'just now';
  return `${fmtAge(Math.max(0, seconds))} ago`;
}

// 11 digits -> "85.07.30-033.28" (docs/api.md section 1's usual separators).
export function fmtNiss(niss) {
  if (!/^\d{11}$/.test(niss || '')) return niss || '';
  return `${niss.slice(0, 2)}.${niss.slice(2, 4)}.${niss.slice(4, 6)}-${niss.slice(6, 9)}.${niss.slice(9)}`;
}

export function fmtPeriod(from, to) {
  return `${from} → ${to === null || to === undefined ? 'open' : to}`;
}

export function kindLabel(kind) {
  return {
    consultation: 'Consultations', mutation: 'Mutations', 'feed-read': 'Feed reads',
    integration: 'Directory batches', bis: 'BIS register', research: 'Research', admin: 'Admin',
  }[kind] || kind;
}

export function outcomeBadge(outcome, cls) {
  const tone = cls || (outcome === 'ok' || outcome === 'answered' ? 'ok' : 'bad');
  const map = { ok: 'ok', refused: 'warn', failed: 'bad', bad: 'bad', warn: 'warn', info: 'info' };
  return h('span', { class: `badge ${map[tone] || ''}`, text: outcome });
}

// ---- building blocks --------------------------------------------------------

export function panel(title, hint, ...body) {
  return h('section', { class: 'panel' },
    h('div', { class: 'panel-head' }, h('h2', { text: title }), hint ? h('span', { class: 'hint', text: hint }) : null),
    ...body);
}

export function tile(label, value, sub, tone) {
  return h('div', { class: `tile ${tone || ''}`, dataset: { tile: label } },
    h('div', { class: 'label', text: label }),
    h('div', { class: 'value', text: value }),
    sub ? h('div', { class: 'sub', text: sub }) : null);
}

export function emptyState(title, text) {
  return h('div', { class: 'state', dataset: { state: 'empty' } }, h('h2', { text: title }), text ? h('p', { text }) : null);
}

export function errorState(error, title = 'The hub could not answer') {
  const message = error && error.message ? error.message : String(error);
  const code = error && error.code ? error.code : null;
  return h('div', { class: 'state error', dataset: { state: 'error' }, role: 'alert' },
    h('h2', { text: title }),
    h('p', {}, code ? h('code', { text: code }) : null, code ? ' — ' : null, message));
}

export function loading(text = 'Loading…') { return h('div', { class: 'loading', text }); }

// columns: [{ title, cell: (row) => Node|string, num?: bool, class? }]
export function table(columns, rows, attrs = {}) {
  return h('div', { class: 'table-wrap' },
    h('table', attrs,
      h('thead', {}, h('tr', {}, columns.map((c) => h('th', { class: c.num ? 'num' : (c.class || null), text: c.title })))),
      h('tbody', {}, rows.map((row) => h('tr', {}, columns.map((c) => {
        const content = c.cell(row);
        return h('td', { class: [c.num ? 'num' : '', c.class || ''].join(' ').trim() || null },
          content instanceof Node ? content : String(content ?? ''));
      }))))));
}

export function institutionLink(id, names) {
  if (id === 'hub') return h('span', { class: 'mono', text: 'hub' });
  const name = names && names.get(id);
  return h('span', { title: name || id, class: 'mono', text: id });
}

export function personLink(niss) {
  if (!niss) return h('span', { class: 'muted', text: '–' });
  return h('a', { href: `#/person/${niss}`, class: 'mono', text: fmtNiss(niss) });
}

// Runs `tick` now and then `ms` after each run ends, until the returned stop
// is called; turns are skipped while the tab is hidden.
export function every(ms, tick) {
  let timer = null;
  let stopped = false;
  const run = async () => {
    if (stopped) return;
    if (!document.hidden) {
      try { await tick(); } catch { /* the page shows its own error state */ }
    }
    if (!stopped) timer = setTimeout(run, ms);
  };
  run();
  return () => { stopped = true; clearTimeout(timer); };
}
