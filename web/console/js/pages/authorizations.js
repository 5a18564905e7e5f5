// SPDX-License-Identifier: EUPL-1.2
// Authorization matrix: who gets what, for files of which capacity, on which
// legal basis, valid when — from the loaded network definition
// (GET /v1/admin/authorizations). Status is judged on the hub's today.

import * as api from '../api.js';
import { h, panel, table, errorState, emptyState, loading, fmtPeriod } from '../dom.js';

export const title = 'Authorizations';

const STATUS_TONE = { active: 'ok', expired: 'bad', future: 'warn' };

function requesterOf(row) {
  return row.requester ? { key: `institution:${row.requester}`, label: row.requester, kind: 'institution' }
                       : { key: `type:${row.requester_type}`, label: row.requester_type, kind: 'type' };
}

function matrix(data, onPick) {
  const requesters = new Map();
  for (const row of data.authorizations) {
    const r = requesterOf(row);
    if (!requesters.has(r.key)) requesters.set(r.key, { ...r, rows: [] });
    requesters.get(r.key).rows.push(row);
  }
  const types = data.data_types.map((t) => t.id).filter((id) => data.authorizations.some((a) => a.data_type === id));
  const ordered = [...requesters.values()].sort((a, b) => a.kind.localeCompare(b.kind) || a.label.localeCompare(b.label));
  return h('div', { class: 'table-wrap' }, h('table', { class: 'matrix', 'data-testid': 'matrix' },
    h('thead', {}, h('tr', {}, h('th', { text: 'Requester' }), types.map((t) => h('th', { class: 'col', text: t })))),
    h('tbody', {}, ordered.map((r) => h('tr', {},
      h('th', { class: 'row' }, r.label, r.kind === 'institution' ? h('span', { class: 'muted', text: ' (institution)' }) : null),
      types.map((t) => {
        const grants = r.rows.filter((row) => row.data_type === t);
        if (grants.length === 0) return h('td', { class: 'cell' });
        const status = grants.some((g) => g.status === 'active') ? 'active'
          : grants.some((g) => g.status === 'future') ? 'future' : 'expired';
        const tip = grants.map((g) => `${g.capacity} · ${g.legal_basis} · ${fmtPeriod(g.from, g.to)} · ${g.status}`).join('\n');
        return h('td', { class: 'cell' }, h('span', {
          class: status, title: tip, role: 'button', tabindex: 0,
          'aria-label': `${r.label}, ${t}: ${status}, ${grants.length} grant${grants.length === 1 ? '' : 's'}`,
          onclick: () => onPick(`${r.label} ${t}`),
          // A role=button answers Enter and Space like a button.
          onkeydown: (event) => {
            if (event.key === 'Enter' || event.key === ' ') {
              event.preventDefault();
              onPick(`${r.label} ${t}`);
            }
          },
          text: grants.length === 1 ? '✓' : String(grants.length),
        }));
      }))))));
}

export function render(root, route) {
  const body = h('div', {}, loading());
  root.append(h('p', { class: 'lede' }, 'Who may obtain which data, for files of which capacity, on which legal basis and for how long, as the loaded network definition says. When several authorizations apply, the first in definition order is used.'), body);

  api.get('/v1/admin/authorizations').then((data) => {
    if (data.authorizations.length === 0) {
      body.replaceChildren(emptyState('No authorization', 'The network definition grants nothing yet: every consultation is refused as not authorized.'));
      return;
    }
    const filter = h('input', { type: 'search', placeholder: 'Filter: data type, institution, legal basis…', value: route.params.get('q') || '', 'aria-label': 'Filter' });
    const status = h('select', { 'aria-label': 'Status' },
      h('option', { value: '', text: 'every status' }),
      ['active', 'future', 'expired'].map((s) => h('option', { value: s, text: s })));
    const list = h('div');
    const counts = { active: 0, future: 0, expired: 0 };
    for (const row of data.authorizations) counts[row.status] += 1;

    const update = () => {
      const words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
      const rows = data.authorizations.filter((row) => {
        if (status.value && row.status !== status.value) return false;
        const text = [row.data_type, row.requester, row.requester_type, row.capacity, row.legal_basis, ...row.institutions, ...row.fields]
          .filter(Boolean).join(' ').toLowerCase();
        return words.every((w) => text.includes(w));
      });
      list.replaceChildren(rows.length === 0 ? emptyState('Nothing matches', 'Change the filter to see more authorizations.') : table([
        { title: 'Data type', cell: (r) => h('span', { class: 'mono', text: r.data_type }) },
        { title: 'Requester', class: 'requester', cell: (r) => h('span', {},
          r.requester ? h('div', {}, h('span', { class: 'mono', text: r.requester }), h('span', { class: 'muted', text: ' institution' }))
            : h('div', {}, h('span', { class: 'mono', text: r.requester_type }), h('span', { class: 'muted', text: ' type' })),
          r.requester ? null : h('div', {}, r.institutions.map((id) => h('span', { class: 'chip mono', text: id })))) },
        { title: 'Capacity', cell: (r) => h('span', { class: 'chip', text: r.capacity }) },
        { title: 'Fields', cell: (r) => h('span', { class: 'muted', text: r.fields.join(', ') }) },
        { title: 'Legal basis', cell: (r) => h('span', { class: 'mono', text: r.legal_basis }) },
        { title: 'Valid', cell: (r) => h('span', { class: 'nowrap', text: fmtPeriod(r.from, r.to) }) },
        { title: 'Status', cell: (r) => h('span', { class: `badge ${STATUS_TONE[r.status]}`, text: r.status }) },
      ], rows, { 'data-testid': 'authorizations' }));
    };
    filter.addEventListener('input', update);
    status.addEventListener('change', update);
    const pick = (text) => { filter.value = text; status.value = ''; update(); list.scrollIntoView({ behavior: 'smooth', block: 'start' }); };

    body.replaceChildren(
      h('div', { class: 'tiles' },
        h('div', { class: 'tile ok' }, h('div', { class: 'label', text: 'Active today' }), h('div', { class: 'value', text: String(counts.active) }), h('div', { class: 'sub', text: `on ${data.today}` })),
        h('div', { class: 'tile' }, h('div', { class: 'label', text: 'Not yet valid' }), h('div', { class: 'value', text: String(counts.future) })),
        h('div', { class: 'tile' }, h('div', { class: 'label', text: 'Expired' }), h('div', { class: 'value', text: String(counts.expired) })),
        h('div', { class: 'tile' }, h('div', { class: 'label', text: 'Institutions' }), h('div', { class: 'value', text: String(data.institutions.length) }))),
      panel('Matrix', 'requesters × data types · green active, amber not yet valid, red expired · click a cell to list it', matrix(data, pick)),
      h('section', { class: 'panel' },
        h('div', { class: 'panel-head' }, h('h2', { text: 'Authorizations' }), h('div', { class: 'toolbar' }, filter, status)),
        list));
    update();
  }).catch((error) => body.replaceChildren(errorState(error)));
  return () => {};
}
