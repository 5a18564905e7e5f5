// SPDX-License-Identifier: EUPL-1.2
// Audit: the hash chain's verification (GET /v1/admin/audit/verify) and a
// search of the records (GET /v1/admin/audit?niss=&requester=&kind=&limit=).
// The search lives in the URL (#/audit?niss=...), so a result can be linked.

import * as api from '../api.js';
import { h, fill, panel, table, fmtInt, fmtTime, fmtMs, kindLabel, outcomeBadge, errorState, emptyState, loading, personLink } from '../dom.js';

export const title = 'Audit';

const KINDS = ['consultation', 'integration', 'mutation', 'feed-read', 'bis', 'research', 'admin'];

function verifyPanel() {
  const box = h('div', {}, loading('Verifying the chain…'));
  const run = () => {
    box.replaceChildren(loading('Verifying the chain…'));
    api.get('/v1/admin/audit/verify').then((report) => {
      // "not verifiable": nothing found wrong, but some check could not be
      // made (a node without a published key): never shown as intact.
      const unverifiable = !report.ok && report.verdict === 'not-verifiable';
      const state = report.ok ? 'ok' : unverifiable ? 'warn' : 'bad';
      fill(box, h('div', { class: `verify ${state}`, 'data-testid': 'verify', dataset: { ok: String(report.ok) } },
        h('span', { class: `badge ${state}`, text: report.ok ? 'intact' : unverifiable ? 'NOT VERIFIABLE' : 'BROKEN' }),
        h('span', { class: 'big', text: report.ok ? `${fmtInt(report.records)} records, every link, tree and signature checked`
          : unverifiable ? 'Some checks could not be made' : 'The audit log does not verify' }),
        h('button', { type: 'button', text: 'Verify again', onclick: run })),
      report.ok ? null : unverifiable
        ? h('ul', { class: 'notice', style: 'margin-top:12px' }, (report.not_verified || []).map((why) => h('li', { text: why })))
        : h('p', { class: 'notice', style: 'margin-top:12px' }, h('strong', { text: 'First bad record: ' }), report.first_bad),
      table([
        { title: 'Node (chain)', cell: (c) => h('span', { class: 'mono', text: c.node }) },
        { title: 'Records', num: true, cell: (c) => fmtInt(c.records) },
        { title: 'Head hash', cell: (c) => h('span', { class: 'hash', text: c.head }) },
        { title: 'Merkle root', cell: (c) => h('span', { class: 'hash', text: c.root || '' }) },
      ], report.chains));
    }).catch((error) => box.replaceChildren(errorState(error, 'Verification failed to run')));
  };
  run();
  return panel('Log verification', 'every record\'s hash, each node\'s Merkle tree and its signed checkpoints', box);
}

export function render(root, route) {
  const p = route.params;
  const field = (name, attrs) => h('input', { name, value: p.get(name) || '', ...attrs });
  const niss = field('niss', { type: 'search', placeholder: 'any person', inputmode: 'numeric', spellcheck: 'false' });
  const requester = field('requester', { type: 'search', placeholder: 'any institution', spellcheck: 'false' });
  const kind = h('select', { name: 'kind' }, h('option', { value: '', text: 'any kind' }),
    KINDS.map((k) => h('option', { value: k, text: kindLabel(k), selected: p.get('kind') === k })));
  const limit = h('select', { name: 'limit' }, [50, 100, 500, 1000].map((n) =>
    h('option', { value: n, text: `${n} newest`, selected: String(n) === (p.get('limit') || '100') })));
  const results = h('div', {}, loading());

  const form = h('form', {
    class: 'toolbar', role: 'search', 'data-testid': 'audit-search',
    onsubmit: (event) => {
      event.preventDefault();
      const params = new URLSearchParams();
      for (const [k, v] of [['niss', niss.value.trim().replace(/[\s.\-/]/g, '')], ['requester', requester.value.trim()], ['kind', kind.value], ['limit', limit.value]]) {
        if (v) params.set(k, v);
      }
      const next = `#/audit?${params}`;
      if (location.hash === next) search(); else location.hash = next;
    },
  },
  h('label', {}, 'Person (NISS)', niss), h('label', {}, 'Institution', requester), h('label', {}, 'Kind', kind), h('label', {}, 'Show', limit),
  h('button', { type: 'submit', class: 'primary', text: 'Search' }));

  root.append(verifyPanel(), h('section', { class: 'panel' },
    h('div', { class: 'panel-head' }, h('h2', { text: 'Records' }), h('span', { class: 'hint', text: 'newest first; answers are kept only as their SHA-256' })),
    form, h('div', { style: 'margin-top:14px' }, results)));

  function search() {
    results.replaceChildren(loading());
    const q = { niss: p.get('niss'), requester: p.get('requester'), kind: p.get('kind'), limit: p.get('limit') || 100 };
    api.get(api.query('/v1/admin/audit', q)).then((data) => {
      results.replaceChildren(data.records.length === 0
        ? emptyState('No record matches', 'Nothing in the audit log for this search.')
        : h('div', {}, h('p', { class: 'muted', style: 'margin:0 0 8px', text: `${fmtInt(data.records.length)} record${data.records.length === 1 ? '' : 's'}` }), table([
          { title: 'Time', cell: (r) => h('span', { class: 'nowrap', text: fmtTime(r.time) }) },
          { title: 'Kind', cell: (r) => kindLabel(r.kind) },
          { title: 'Institution', cell: (r) => h('span', { class: 'mono', text: r.requester || '–' }) },
          { title: 'Person', cell: (r) => personLink(r.niss) },
          { title: 'Data type', cell: (r) => h('span', { class: 'mono', text: r.data_type || '–' }) },
          { title: 'Outcome', cell: (r) => outcomeBadge(r.outcome, r.outcome === 'ok' ? 'ok' : (['unavailable', 'timeout', 'internal'].includes(r.outcome) ? 'failed' : 'refused')) },
          { title: 'Detail', class: 'detail', cell: (r) => h('span', { class: 'muted', text: [r.reason, r.providers, r.detail].filter(Boolean).join(' · ') }) },
          { title: 'Latency', num: true, cell: (r) => fmtMs(r.latency_us / 1000) },
          { title: 'Record', cell: (r) => h('span', { class: 'mono muted nowrap', title: `${r.hash}\nrequest ${r.request_id}`, text: `${r.node}#${r.seq}` }) },
        ], data.records, { 'data-testid': 'records', 'data-requester': q.requester || '' })));
    }).catch((error) => results.replaceChildren(errorState(error, error.code === 'invalid-niss' ? 'Not a valid number' : 'The search failed')));
  }
  search();
  return () => {};
}
