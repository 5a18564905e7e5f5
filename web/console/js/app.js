// SPDX-License-Identifier: EUPL-1.2
// The console's shell: hash routes to pages, the person search box, the
// admin-token dialog and the hub's reachability. Each page module exports
// `title` and `render(root, route)`, which fills `root` and returns a
// function that stops whatever the page keeps running (polling).
//
// Routes: #/dashboard  #/network  #/person  #/person/<niss>[/<tab>]
//         #/authorizations  #/queues  #/audit[?niss=&requester=&kind=&limit=]

import * as api from './api.js';
import { h, clear, errorState } from './dom.js';
import * as dashboard from './pages/dashboard.js';
import * as network from './pages/network.js';
import * as person from './pages/person.js';
import * as authorizations from './pages/authorizations.js';
import * as queues from './pages/queues.js';
import * as audit from './pages/audit.js';

const PAGES = { dashboard, network, person, authorizations, queues, audit };

const root = document.getElementById('page');
const title = document.getElementById('page-title');
let stop = () => {};

export function parseRoute(hash) {
  const text = (hash || '').replace(/^#\/?/, '');
  const [pathPart, queryPart] = text.split('?');
  const parts = pathPart.split('/').filter(Boolean).map(decodeURIComponent);
  return { page: parts[0] || 'dashboard', args: parts.slice(1), params: new URLSearchParams(queryPart || '') };
}

let navigated = false;  // false for the first page shown: focus stays where the browser put it

function show() {
  stop();
  stop = () => {};
  const route = parseRoute(location.hash);
  const page = PAGES[route.page];
  for (const link of document.querySelectorAll('.sidebar nav a')) {
    const current = link.dataset.page === route.page;
    link.classList.toggle('active', current);
    if (current) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  clear(root);
  if (!page) {
    title.textContent = 'Not found';
    root.append(errorState({ message: `There is no page "${route.page}".` }, 'Unknown page'));
    return;
  }
  title.textContent = page.title;
  document.title = `${page.title} · carrefour`;
  // Keyboard and screen-reader users land on the new page, not on the link.
  if (navigated) title.focus({ preventScroll: true });
  try {
    stop = page.render(root, route) || (() => {});
  } catch (error) {
    root.append(errorState(error, 'This page failed'));
  }
}

// ---- the person search box (top bar) ---------------------------------------

document.getElementById('person-search').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = document.getElementById('person-search-input');
  // The hub normalizes and validates; only the usual separators go here.
  const niss = input.value.trim().replace(/[\s.\-/]/g, '');
  if (!niss) { input.focus(); return; }
  location.hash = `#/person/${encodeURIComponent(niss)}`;
});

// ---- admin token ------------------------------------------------------------

const dialog = document.getElementById('token-dialog');
const tokenInput = document.getElementById('token-input');
const tokenError = document.getElementById('token-error');
const signOut = document.getElementById('sign-out');

api.onTokenNeeded((refused) => new Promise((resolve) => {
  tokenError.hidden = !refused;
  tokenError.textContent = refused ? 'The hub refused that token. Try again.' : '';
  tokenInput.value = '';
  const done = (event) => {
    event.preventDefault();
    const value = tokenInput.value.trim();
    if (!value) return;
    document.getElementById('token-form').removeEventListener('submit', done);
    dialog.close();
    signOut.hidden = false;
    resolve(value);
  };
  document.getElementById('token-form').addEventListener('submit', done);
  if (!dialog.open) dialog.showModal();
  tokenInput.focus();
}));
// Escape must not leave the console without a token and without a dialog.
dialog.addEventListener('cancel', (event) => event.preventDefault());

signOut.hidden = !api.token();
signOut.addEventListener('click', () => {
  api.forgetToken();
  signOut.hidden = true;
  show();
});

// ---- hub reachability -------------------------------------------------------

const status = document.getElementById('hub-status');
api.onHubStatus((state) => {
  status.dataset.state = state;
  status.querySelector('.label').textContent = state === 'live' ? 'hub reachable' : 'hub unreachable';
});

window.addEventListener('hashchange', () => { navigated = true; show(); });
if (!location.hash) history.replaceState(null, '', '#/dashboard');
show();
