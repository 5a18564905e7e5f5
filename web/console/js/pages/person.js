// SPDX-License-Identifier: EUPL-1.2
// Person view (references only: the hub holds no personal data): which
// institutions hold files on a number, in which capacity and for which
// periods; the person's mutations and the deliveries still waiting; and the
// transparency view — who consulted, or tried to consult, the person's data,
// and who would be told of a change about them (the view of docs/api.md 4.6).
//   GET /v1/admin/person?niss=n   GET /v1/admin/transparency?niss=n
// Without a number: a search form and the persons last seen in the audit log.

import * as api from '../api.js';
import { h, fill, panel, table, fmtInt, fmtTime, fmtNiss, fmtAge, fmtPeriod, outcomeBadge, errorState, emptyState, loading, personLink } from '../dom.js';

export const title = 'Persons';

const TABS = [
  ['files', 'Files'],
  ['mutations', 'Mutations'],
  ['pending', 'Pending deliveries'],
  ['transparency', 'Transparency'],
];

function searchForm(value) {
  const input = h('input', { type: 'search', name: 'niss', value: value || '', placeholder: '85.07.30-033.28', inputmode: 'numeric', 'aria-label': 'NISS', spellcheck: 'false' });
  return h('form', {
    class: 'search', role: 'search',
    onsubmit: (event) => {
      event.preventDefault();
      const niss = input.value.trim().replace(/[\s.\-/]/g, '');
      if (niss) location.hash = `#/person/${encodeURIComponent(niss)}`;
    },
  }, input, h('button', { type: 'submit', text: 'Open' }));
}

function renderIndex(root) {
  const recent = h('div', {}, loading());
  root.append(
    panel('Find a person', null,
      h('p', { class: 'lede' }, 'Type a national register or BIS number, with or without separators. The console shows only references: which institutions hold a file, the mutations that went through the hub, and who consulted the person\'s data.'),
      h('div', { style: 'margin-top:14px' }, searchForm(''))),
    panel('Recently consulted persons', 'from the audit log', recent));
  api.get(api.query('/v1/admin/audit', { kind: 'consultation', limit: 500 })).then((data) => {
    const seen = new Map();
    for (const r of data.records) {
      if (!r.niss) continue;
      const row = seen.get(r.niss) || { niss: r.niss, last: r.time, requesters: new Set(), count: 0 };
      row.requesters.add(r.requester);
      row.count += 1;
      seen.set(r.niss, row);
    }
    const rows = [...seen.values()].slice(0, 25);
    recent.replaceChildren(rows.length === 0
      ? emptyState('No consultation yet', 'Persons appear here once institutions consult their data through the hub.')
      : table([
        { title: 'Person', cell: (r) => personLink(r.niss) },
        { title: 'Latest consultation', cell: (r) => fmtTime(r.last) },
        { title: 'Consultations', num: true, cell: (r) => fmtInt(r.count) },
        { title: 'By', cell: (r) => h('span', {}, [...r.requesters].map((id) => h('span', { class: 'chip mono', text: id }))) },
      ], rows, { 'data-testid': 'recent-persons' }));
  }).catch((error) => recent.replaceChildren(errorState(error)));
}

function entryStatus(entry) {
  if (entry.active) return h('span', { class: 'badge ok', text: 'active' });
  const today = new Date().toISOString().slice(0, 10);
  return entry.from > today ? h('span', { class: 'badge warn', text: 'future' }) : h('span', { class: 'badge', text: 'ended' });
}

function filesTab(person) {
  if (person.entries.length === 0) {
    return emptyState('No institution holds a file on this person',
      'No institution has declared this number in the person directory (POST /v1/directory/entries). Consultations about the person are refused as not integrated.');
  }
  return table([
    { title: 'Institution', cell: (e) => h('span', {}, h('span', { class: 'mono', text: e.institution }), e.name ? h('div', { class: 'muted', text: e.name }) : null) },
    { title: 'Capacity', cell: (e) => h('span', { class: 'chip', text: e.capacity }) },
    { title: 'Period', cell: (e) => fmtPeriod(e.from, e.to) },
    { title: 'Status', cell: entryStatus },
  ], person.entries, { 'data-testid': 'entries' });
}

function mutationsTab(person) {
  if (person.mutations.length === 0) {
    return emptyState('No mutation about this person', 'Changes that authentic sources publish about this number (POST /v1/mutations) appear here, with the institutions they were sent to.');
  }
  return table([
    { title: 'Accepted', cell: (m) => h('span', { class: 'nowrap', text: fmtTime(m.time) }) },
    { title: 'Source', cell: (m) => h('span', { class: 'mono', text: m.source }) },
    { title: 'Data type', cell: (m) => h('span', { class: 'mono', text: m.data_type }) },
    { title: 'Id', cell: (m) => h('span', { class: 'mono', text: m.id || '–' }) },
    { title: 'Outcome', cell: (m) => outcomeBadge(m.outcome === 'ok' ? m.reason : m.outcome, m.outcome === 'ok' ? (m.reason === 'accepted' ? 'ok' : 'info') : 'refused') },
    { title: 'Sent to', cell: (m) => m.subscribers.length === 0 ? h('span', { class: 'muted', text: 'nobody' })
      : h('span', {}, m.subscribers.map((s) => h('span', { class: 'chip mono', title: s.legal_basis ? `legal basis ${s.legal_basis}` : null, text: s.institution }))) },
  ], person.mutations, { 'data-testid': 'mutations' });
}

function pendingTab(person) {
  if (person.pending.length === 0) {
    return emptyState('Nothing waiting', 'Every subscriber has acknowledged the mutations about this person (or none were sent).');
  }
  return table([
    { title: 'Subscriber', cell: (p) => h('span', { class: 'mono', text: p.subscriber }) },
    { title: 'Data type', cell: (p) => h('span', { class: 'mono', text: p.data_type }) },
    { title: 'Source', cell: (p) => h('span', { class: 'mono', text: p.source }) },
    { title: 'Id', cell: (p) => h('span', { class: 'mono', text: p.id }) },
    { title: 'Effective', cell: (p) => p.effective },
    { title: 'Waiting for', num: true, cell: (p) => fmtAge(p.age_seconds) },
    { title: 'Cursor', num: true, cell: (p) => h('span', { class: 'mono', text: p.cursor }) },
  ], person.pending, { 'data-testid': 'pending' });
}

function transparencyTab(transparency) {
  const intro = h('p', { class: 'lede', style: 'margin-bottom:12px' },
    'Who consulted, or tried to consult, this person\'s data through the hub: when, which data type, on which legal basis, and whether it was answered. This is what the person is entitled to see.');
  if (transparency.consultations.length === 0) {
    return h('div', {}, intro, emptyState('Nobody has consulted this person\'s data', 'Every consultation, answered or refused, is recorded in the audit log and listed here.'), subscriptionsOf(transparency));
  }
  return h('div', {}, intro, table([
    { title: 'When', cell: (c) => h('span', { class: 'nowrap', text: fmtTime(c.time) }) },
    { title: 'Institution', cell: (c) => h('span', { class: 'mono', text: c.requester }) },
    { title: 'Data type', cell: (c) => h('span', { class: 'mono', text: c.data_type || '–' }) },
    { title: 'Legal basis', cell: (c) => c.legal_basis || h('span', { class: 'muted', text: '–' }) },
    { title: 'Outcome', cell: (c) => c.outcome === 'answered' ? outcomeBadge('answered', 'ok') : h('span', {}, outcomeBadge('refused', 'refused'), ' ', h('code', { text: c.code || '' })) },
    { title: 'In the log', cell: (c) => h('span', { class: 'mono muted', title: `leaf ${c.leaf_hash} of ${c.node}'s tree`, text: `${c.node} #${c.index}` }) },
  ], transparency.consultations, { 'data-testid': 'transparency' }), subscriptionsOf(transparency));
}

// Who would be told today of a change about the person (docs/api.md 4.3's rule).
function subscriptionsOf(transparency) {
  const subscriptions = transparency.subscriptions || [];
  const title = h('h3', { style: 'margin:18px 0 8px', text: 'Told automatically of changes' });
  if (subscriptions.length === 0) {
    return h('div', {}, title, h('p', { class: 'muted', text: 'Nobody would receive a change about this person today.' }));
  }
  return h('div', {}, title, table([
    { title: 'Institution', cell: (s) => h('span', { class: 'mono', title: s.institution_name, text: s.institution }) },
    { title: 'Data type', cell: (s) => h('span', { class: 'mono', text: s.data_type }) },
    { title: 'Capacity', cell: (s) => s.capacity },
    { title: 'Legal basis', cell: (s) => s.legal_basis },
  ], subscriptions, { 'data-testid': 'transparency-subscriptions' }));
}

function renderPerson(root, niss, tab) {
  const body = h('div', {}, loading());
  root.append(h('div', {}, h('a', { href: '#/person', text: '← all persons' })), body);
  Promise.all([
    api.get(api.query('/v1/admin/person', { niss })),
    api.get(api.query('/v1/admin/transparency', { niss })),
  ]).then(([person, transparency]) => {
    const counts = {
      files: person.entries.length, mutations: person.mutations.length,
      pending: person.pending.length, transparency: transparency.consultations.length,
    };
    const current = TABS.some(([id]) => id === tab) ? tab : 'files';
    const content = {
      files: () => filesTab(person), mutations: () => mutationsTab(person),
      pending: () => pendingTab(person), transparency: () => transparencyTab(transparency),
    }[current]();
    const active = person.entries.filter((e) => e.active).length;
    fill(body,
      h('section', { class: 'panel' },
        h('div', { class: 'person-head' },
          h('span', { class: 'niss', 'data-testid': 'person-niss', text: fmtNiss(person.niss) }),
          h('span', { class: 'muted mono', text: person.niss }),
          h('span', { class: `badge ${active > 0 ? 'ok' : ''}`, text: `${active} active file${active === 1 ? '' : 's'}` }),
          h('span', { class: 'badge info', text: `${fmtInt(counts.transparency)} consultation${counts.transparency === 1 ? '' : 's'}` })),
        person.replaced_by ? h('p', { class: 'notice', style: 'margin:14px 0 0' },
          'This number was replaced by ', personLink(person.replaced_by.niss), ` on ${person.replaced_by.effective}: the directory moved to the new number.`) : null),
      h('nav', { class: 'tabs', 'aria-label': 'Person' }, TABS.map(([id, label]) =>
        h('a', { href: `#/person/${person.niss}/${id}`, class: id === current ? 'active' : null, 'aria-current': id === current ? 'page' : null, dataset: { tab: id } },
          label, h('span', { class: 'count', text: fmtInt(counts[id]) })))),
      h('section', { class: 'panel', dataset: { panel: current } }, content),
      person.mutations.length >= person.limit || transparency.consultations.length >= 1000
        ? h('p', { class: 'muted', text: 'Only the latest records are listed; the audit page searches further.' }) : null);
  }).catch((error) => {
    body.replaceChildren(errorState(error, error.code === 'invalid-niss' ? 'Not a valid number' : 'The hub could not answer'));
  });
}

export function render(root, route) {
  const [niss, tab] = route.args;
  if (!niss) renderIndex(root); else renderPerson(root, niss, tab);
  return () => {};
}

