// SPDX-License-Identifier: EUPL-1.2
// Mutation queues: per subscriber, the deliveries waiting in its feed, the
// age of the oldest one not yet acknowledged, and its feed reads
// (GET /v1/admin/queues, every 3 s).

import * as api from '../api.js';
import { h, every, table, tile, fmtInt, fmtAge, ago, errorState, emptyState } from '../dom.js';

export const title = 'Mutation queues';

// A delivery unread for longer than this is worth a look (the subscriber's
// connector may be down); only a visual hint.
const STALE_SECONDS = 300;

export function render(root) {
  const status = h('div');
  const tiles = h('div', { class: 'tiles' });
  const list = h('div');
  root.append(
    h('p', { class: 'lede' }, 'Each subscriber reads its feed (GET /v1/mutations/feed) and acknowledges what it has processed. A growing backlog or an old unacknowledged delivery means a subscriber is not keeping up.'),
    status, tiles, h('section', { class: 'panel' }, h('div', { class: 'panel-head' }, h('h2', { text: 'Subscribers' }), h('span', { class: 'hint', text: 'refreshed every 3 s' })), list));

  async function tick() {
    let data;
    try {
      data = await api.get('/v1/admin/queues');
    } catch (error) {
      status.replaceChildren(errorState(error, 'Queues unavailable'));
      throw error;
    }
    status.replaceChildren();
    const rows = data.subscribers;
    const backlogged = rows.filter((r) => r.pending > 0);
    const oldest = Math.max(0, ...backlogged.map((r) => r.oldest_age_seconds || 0));
    const maxPending = Math.max(1, ...rows.map((r) => r.pending));
    tiles.replaceChildren(
      tile('Deliveries waiting', fmtInt(data.pending), 'not yet acknowledged'),
      tile('Subscribers with a backlog', `${backlogged.length} / ${rows.length}`),
      tile('Oldest unacknowledged', backlogged.length ? fmtAge(oldest) : '–', null, oldest > STALE_SECONDS ? 'bad' : ''),
      tile('Feed reads', fmtInt(rows.reduce((a, r) => a + r.feed_reads, 0)), 'since the hub started'));
    list.replaceChildren(rows.length === 0
      ? emptyState('No subscriber', 'No institution subscribes to any mutation in the network definition ([[subscription]]).')
      : table([
        { title: 'Subscriber', cell: (r) => h('span', {}, h('span', { class: 'mono', text: r.subscriber }), r.name ? h('div', { class: 'muted', text: r.name }) : null) },
        { title: 'Subscribed to', cell: (r) => h('span', {}, r.data_types.map((t) => h('span', { class: 'chip mono', text: t }))) },
        { title: 'Waiting', num: true, cell: (r) => fmtInt(r.pending) },
        { title: '', cell: (r) => h('div', { class: `bar ${r.oldest_age_seconds > STALE_SECONDS ? 'warn' : ''}` }, h('span', { style: `width:${(100 * r.pending) / maxPending}%` })) },
        { title: 'Oldest unacknowledged', cell: (r) => r.pending === 0 ? h('span', { class: 'badge ok', text: 'up to date' })
          : h('span', { class: `badge ${r.oldest_age_seconds > STALE_SECONDS ? 'bad' : 'warn'}`, text: fmtAge(r.oldest_age_seconds) }) },
        { title: 'Feed reads', num: true, cell: (r) => fmtInt(r.feed_reads) },
        { title: 'Last read', cell: (r) => r.last_read ? ago(r.last_read) : h('span', { class: 'muted', title: 'no feed read since the hub started', text: 'none yet' }) },
      ], rows.sort((a, b) => b.pending - a.pending || a.subscriber.localeCompare(b.subscriber)), { 'data-testid': 'queues' }));
  }
  return every(3000, tick);
}
