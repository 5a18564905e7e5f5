// SPDX-License-Identifier: EUPL-1.2
// Browser tests of the web console (docs/console.md), in headless Chromium
// driven by playwright-core. They open each page against a running hub and
// check that it shows what the hub's admin endpoints say — institution ids,
// counts, a person's files — follow a person from the search box to the
// transparency view, and save a screenshot of every page.
//
//   CONSOLE_URL=http://127.0.0.1:8080/ [CONSOLE_TOKEN=...] [CONSOLE_PERSON=<niss>]
//   [CONSOLE_HUB=https://127.0.0.1:8443 CONSOLE_PKI=<demo>/pki]
//   [ARTIFACTS_DIR=browser-artifacts] [CHROMIUM=/usr/bin/chromium]
//   node --test console.test.mjs
//
// Any running network will do (tests/browser/run.sh starts a small one;
// `carrefour demo` prints its console URL): what is expected is mostly read
// from the same hub's endpoints, not assumed. With CONSOLE_HUB and
// CONSOLE_PKI (run.sh passes them), one test also declares a file and makes
// consultations through the hub's API itself, and checks the person pages
// against those values. The browser may reach the hub only: any other
// request fails the test (the console must work without network).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { chromium } from 'playwright-core';
import { createRequire } from 'node:module';

// axe-core's script, injected into the page for the WCAG checks.
const AXE_SOURCE = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

const CONSOLE_URL = process.env.CONSOLE_URL;
if (!CONSOLE_URL) throw new Error('CONSOLE_URL is required (the hub admin listener, e.g. http://127.0.0.1:8080/)');
const TOKEN = process.env.CONSOLE_TOKEN || '';
const ARTIFACTS = path.resolve(process.env.ARTIFACTS_DIR || 'browser-artifacts');
const origin = new URL(CONSOLE_URL).origin;
// Optional: the network's PKI folder and the hub's API URL. With them the
// test also puts data in through the hub's API itself (as institutions, over
// mutual TLS) and checks the pages against what it put in — values that do
// not come from the admin endpoints the pages render.
const PKI = process.env.CONSOLE_PKI || '';
const HUB = process.env.CONSOLE_HUB || '';

let browser;
let page;
const foreignRequests = [];
const pageErrors = [];

// The hub's own answer for an admin endpoint (what the page must show).
async function admin(pathAndQuery) {
  const response = await fetch(new URL(pathAndQuery, origin), {
    headers: TOKEN ? { Authorization: `Bearer ${TOKEN}` } : {},
  });
  assert.equal(response.status, 200, `${pathAndQuery}: HTTP ${response.status}`);
  return response.json();
}

// A call to the hub's API as `institution` (its certificate from the PKI).
function hubCall(institution, target, body) {
  const url = new URL(target, HUB);
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const request = https.request({
      host: url.hostname, port: url.port, path: url.pathname + url.search, method: 'POST',
      cert: fs.readFileSync(path.join(PKI, `${institution}.crt`)),
      key: fs.readFileSync(path.join(PKI, `${institution}.key`)),
      ca: fs.readFileSync(path.join(PKI, 'ca.crt')),
      headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) },
    }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => { text += chunk; });
      response.on('end', () => resolve({ status: response.statusCode, body: JSON.parse(text) }));
    });
    request.on('error', reject);
    request.end(payload);
  });
}

// A valid national number (born 1900-01-01) with the given serial.
function numberWithSerial(serial) {
  const base = `000101${serial}`;
  return base + String(97 - (Number(base) % 97)).padStart(2, '0');
}

async function shoot(name) {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

async function open(hash) {
  await page.evaluate((h) => { location.hash = h; }, hash);
}

before(async () => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    // Root in a container has no user namespaces for Chromium's sandbox.
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1 });
  // Only the hub may be asked: everything else is refused and remembered.
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(origin) || url.startsWith('data:')) return route.continue();
    foreignRequests.push(url);
    return route.abort();
  });
  page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(error.message));
  // A wait budget, not a timing check: under a full parallel test run on a
  // 2-core machine, Chromium's first paints have taken more than 15 s.
  page.setDefaultTimeout(60000);
});

after(async () => {
  if (browser) await browser.close();
});

test('the console loads from the hub alone, asking for the admin token when there is one', async () => {
  await page.goto(CONSOLE_URL);
  if (TOKEN) {
    const dialog = page.locator('#token-dialog');
    await dialog.waitFor({ state: 'visible' });
    await shoot('token-dialog');
    await page.fill('#token-input', 'not-the-token');
    await page.click('#token-form button[type=submit]');
    await page.locator('#token-error').waitFor({ state: 'visible' });
    await page.fill('#token-input', TOKEN);
    await page.click('#token-form button[type=submit]');
    await dialog.waitFor({ state: 'hidden' });
  }
  await page.locator('#hub-status[data-state="live"]').waitFor();
  assert.equal(await page.title(), 'Dashboard · carrefour');
  assert.deepEqual(foreignRequests, []);
});

test('dashboard: live counts and charts from /v1/admin/stats', async () => {
  const stats = await admin('/v1/admin/stats?seconds=300');
  const consultations = stats.totals.filter((t) => t.kind === 'consultation').reduce((a, t) => a + t.count, 0);
  assert.ok(consultations > 0, 'the network has made consultations');
  await open('#/dashboard');
  const tile = page.locator('[data-tile="Consultations"] .value');
  await tile.waitFor();
  // The page refreshes every 2 s and the hub keeps counting: wait for a
  // refresh that has at least what the hub said.
  await page.waitForFunction((n) => {
    const text = document.querySelector('[data-tile="Consultations"] .value')?.textContent || '';
    return Number(text.replace(/[^\d]/g, '')) >= n;
  }, consultations);
  const kinds = await page.locator('.legend [data-series]').allInnerTexts();
  assert.ok(kinds.includes('Consultations'), `legend: ${kinds}`);
  // The chart names the eight busiest data types (the rest together): the
  // three busiest here are among them at the page's later refresh too,
  // whereas a rarely consulted one may rank ninth or leave the window.
  const perType = new Map();
  for (const s of stats.series.filter((s) => s.kind === 'consultation')) {
    const count = s.per_second.reduce((a, b) => a + b, 0);
    perType.set(s.data_type, (perType.get(s.data_type) || 0) + count);
  }
  const busiest = [...perType.entries()].sort((a, b) => b[1] - a[1]).map(([type]) => type);
  for (const type of busiest.slice(0, 3)) {
    assert.ok(kinds.includes(type), `the data type chart names ${type}`);
  }
  const rows = page.locator('[data-testid="totals"] tbody tr');
  assert.ok(await rows.count() >= stats.totals.length, 'every total is listed');
  await shoot('dashboard');
});

test('network map: every institution and the flows between them', async () => {
  const network = await admin('/v1/admin/network');
  const flows = await admin('/v1/admin/flows');
  await open('#/network');
  await page.locator('[data-testid="map"]').waitFor();
  for (const institution of network.institutions) {
    await page.locator(`[data-testid="map"] [data-institution="${institution.id}"]`).waitFor({ state: 'attached' });
  }
  const between = flows.flows.find((f) => f.kind === 'consultation' && f.to !== 'hub' && f.from !== 'hub');
  assert.ok(between, 'a consultation went from a requester to a provider');
  await page.locator(`path.edge[data-from="${between.from}"][data-to="${between.to}"][data-kind="consultation"]`).waitFor({ state: 'attached' });
  const table = await page.locator('[data-testid="flows"]').innerText();
  assert.ok(table.includes(between.from) && table.includes(between.to));
  await shoot('network');
});

test('authorizations: the matrix and every row of the definition', async () => {
  const data = await admin('/v1/admin/authorizations');
  await open('#/authorizations');
  await page.locator('[data-testid="matrix"]').waitFor();
  const rows = page.locator('[data-testid="authorizations"] tbody tr');
  await rows.first().waitFor();
  assert.equal(await rows.count(), data.authorizations.length);
  const text = await page.locator('[data-testid="authorizations"]').innerText();
  assert.ok(text.includes(data.authorizations[0].legal_basis));
  await shoot('authorizations');
  // Filtering narrows the list to what matches.
  const basis = data.authorizations.at(-1).legal_basis;
  await page.fill('input[aria-label="Filter"]', basis);
  const expected = data.authorizations.filter((a) =>
    [a.data_type, a.requester, a.requester_type, a.capacity, a.legal_basis, ...a.institutions, ...a.fields]
      .filter(Boolean).join(' ').toLowerCase().includes(basis.toLowerCase())).length;
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid="authorizations"] tbody tr').length === n, expected);
});

test('mutation queues: backlog per subscriber as the store has it', async () => {
  const queues = await admin('/v1/admin/queues');
  assert.ok(queues.subscribers.length > 0, 'the definition has subscribers');
  await open('#/queues');
  const rows = page.locator('[data-testid="queues"] tbody tr');
  await rows.first().waitFor();
  assert.equal(await rows.count(), queues.subscribers.length);
  const waiting = await page.locator('[data-tile="Deliveries waiting"] .value').innerText();
  assert.equal(Number(waiting.replace(/[^\d]/g, '')), queues.pending);
  for (const subscriber of queues.subscribers.filter((s) => s.pending > 0)) {
    const row = rows.filter({ hasText: subscriber.subscriber }).first();
    assert.ok((await row.innerText()).includes(String(subscriber.pending)));
  }
  await shoot('queues');
});

test('audit: the chain verifies, and a search lists only what it asked for', async () => {
  const network = await admin('/v1/admin/network');
  const requester = network.institutions[0].id;
  const expected = await admin(`/v1/admin/audit?requester=${encodeURIComponent(requester)}&limit=100`);
  await open('#/audit');
  await page.locator('[data-testid="verify"][data-ok="true"]').waitFor();
  await page.fill('input[name="requester"]', requester);
  await page.click('[data-testid="audit-search"] button[type="submit"]');
  await page.waitForFunction((r) => location.hash.includes(`requester=${r}`), requester);
  // The demo's traffic has made records for every institution: an empty
  // list here would be a page that shows nothing.
  assert.ok(expected.records.length > 0, `the hub has records of ${requester}`);
  // The table of this search (it says which institution it was asked
  // for), not the unfiltered one the page showed before the hash changed.
  const cells = page.locator(
    `[data-testid="records"][data-requester="${requester}"] tbody tr td:nth-child(3)`);
  await cells.first().waitFor();
  const institutions = new Set(await cells.allInnerTexts());
  assert.deepEqual([...institutions], [requester]);
  await shoot('audit');
});

test('person: from the search box to the transparency view', async () => {
  let niss = process.env.CONSOLE_PERSON;
  if (!niss) {
    const answered = await admin('/v1/admin/audit?kind=consultation&limit=500');
    niss = answered.records.find((r) => r.niss && r.outcome === 'ok')?.niss;
  }
  assert.ok(niss, 'a person was consulted');
  const person = await admin(`/v1/admin/person?niss=${niss}`);
  const transparency = await admin(`/v1/admin/transparency?niss=${niss}`);
  assert.ok(person.entries.length > 0 && transparency.consultations.length > 0);

  await open('#/dashboard');
  // Typed as people write it, with the usual separators.
  const typed = `${niss.slice(0, 2)}.${niss.slice(2, 4)}.${niss.slice(4, 6)}-${niss.slice(6, 9)}.${niss.slice(9)}`;
  await page.fill('#person-search-input', typed);
  await page.press('#person-search-input', 'Enter');
  await page.waitForFunction((n) => location.hash === `#/person/${n}`, niss);
  const entries = page.locator('[data-testid="entries"] tbody tr');
  await entries.first().waitFor();
  assert.equal(await entries.count(), person.entries.length);
  const text = await page.locator('[data-testid="entries"]').innerText();
  for (const entry of person.entries) assert.ok(text.includes(entry.institution) && text.includes(entry.capacity));
  assert.equal(await page.locator('[data-testid="person-niss"]').innerText(), typed);
  await shoot('person-files');

  if (person.mutations.length > 0) {
    await page.click('.tabs a[data-tab="mutations"]');
    await page.locator('[data-testid="mutations"]').waitFor();
    await shoot('person-mutations');
  }

  await page.click('.tabs a[data-tab="transparency"]');
  await page.waitForFunction((n) => location.hash === `#/person/${n}/transparency`, niss);
  const consultations = page.locator('[data-testid="transparency"] tbody tr');
  await consultations.first().waitFor();
  // Consultations may continue meanwhile: at least what the hub said.
  assert.ok(await consultations.count() >= transparency.consultations.length);
  const shown = await page.locator('[data-testid="transparency"]').innerText();
  for (const requester of new Set(transparency.consultations.map((c) => c.requester))) {
    assert.ok(shown.includes(requester), `transparency names ${requester}`);
  }
  if (transparency.consultations.some((c) => c.outcome === 'refused')) assert.ok(shown.includes('refused'));
  await shoot('person-transparency');
});

test('person: an invalid number gets the hub\'s reason; an unknown one an empty state', async () => {
  await page.fill('#person-search-input', '12345678901');
  await page.press('#person-search-input', 'Enter');
  const error = page.locator('[data-state="error"]');
  await error.waitFor();
  assert.ok((await error.innerText()).includes('invalid-niss'));
  await shoot('person-invalid');

  // A valid number nobody declared: born 1900-01-01, serial 997.
  const base = '000101997';
  const unknown = base + String(97 - (Number(base) % 97)).padStart(2, '0');
  const person = await admin(`/v1/admin/person?niss=${unknown}`);
  assert.equal(person.entries.length, 0, `nobody holds a file on ${unknown}`);
  await open(`#/person/${unknown}`);
  await page.locator('[data-state="empty"]').waitFor();
  assert.ok((await page.locator('[data-state="empty"]').innerText()).includes('No institution holds a file'));
});

test('person: the pages show what this test itself put in through the hub\'s API', { skip: !(PKI && HUB) && 'needs CONSOLE_PKI and CONSOLE_HUB' }, async () => {
  // A person nobody else declares: mut-100 declares a file on them, then
  // consults their address; mut-300, without a file, is refused.
  const niss = numberWithSerial('995');
  const declared = await hubCall('mut-100', '/v1/directory/entries', {
    entries: [{ action: 'add', niss, capacity: 'insured', from: '2024-01-01', to: null }],
  });
  assert.equal(declared.status, 200, JSON.stringify(declared.body));
  assert.equal(declared.body.results[0].status, 'ok', JSON.stringify(declared.body));
  const answered = await hubCall('mut-100', '/v1/consultations', { data_type: 'person.address', niss });
  assert.equal(answered.status, 200, JSON.stringify(answered.body));
  const refused = await hubCall('mut-300', '/v1/consultations', { data_type: 'person.address', niss });
  assert.equal(refused.status, 403, JSON.stringify(refused.body));
  assert.equal(refused.body.error.code, 'not-integrated');

  await open(`#/person/${niss}`);
  const entries = page.locator('[data-testid="entries"] tbody tr');
  await entries.first().waitFor();
  assert.equal(await entries.count(), 1);
  const entry = await entries.first().innerText();
  for (const part of ['mut-100', 'insured', '2024-01-01 → open']) assert.ok(entry.includes(part), `${part} in "${entry}"`);

  await page.click('.tabs a[data-tab="transparency"]');
  await page.waitForFunction((n) => location.hash === `#/person/${n}/transparency`, niss);
  const rows = page.locator('[data-testid="transparency"] tbody tr');
  await rows.first().waitFor();
  assert.equal(await rows.count(), 2);
  const shown = (await rows.allInnerTexts()).sort();
  const byRequester = (id) => shown.find((row) => row.includes(id)) || '';
  assert.ok(byRequester('mut-100').includes('person.address') && byRequester('mut-100').includes('answered'), shown.join(' | '));
  assert.ok(byRequester('mut-300').includes('refused') && byRequester('mut-300').includes('not-integrated'), shown.join(' | '));
  await shoot('person-own');
});

test('the console\'s files need no token; its data endpoints do, and refuse bad input clearly', async () => {
  const index = await fetch(new URL('/', origin));
  assert.equal(index.status, 200);
  assert.match(index.headers.get('content-type'), /^text\/html/);
  assert.match(index.headers.get('content-security-policy'), /script-src 'self'/);
  assert.equal(index.headers.get('cache-control'), 'no-cache');
  const etag = index.headers.get('etag');
  const again = await fetch(new URL('/', origin), { headers: { 'If-None-Match': etag } });
  assert.equal(again.status, 304);
  const script = await fetch(new URL('/console/js/app.js', origin));
  assert.equal(script.status, 200);
  assert.match(script.headers.get('content-type'), /^text\/javascript/);
  assert.equal((await fetch(new URL('/console/js/nothing.js', origin))).status, 404);

  const call = async (target, init = {}, withToken = true) => {
    const headers = withToken && TOKEN ? { Authorization: `Bearer ${TOKEN}` } : {};
    const response = await fetch(new URL(target, origin), { ...init, headers });
    return { status: response.status, body: await response.json() };
  };
  if (TOKEN) {
    const refused = await call('/v1/admin/stats', {}, false);
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error.code, 'not-authorized');
  }
  for (const [target, status, code] of [
    ['/v1/admin/stats?seconds=0', 400, 'invalid-request'],
    ['/v1/admin/stats?seconds=100000', 400, 'invalid-request'],
    ['/v1/admin/stats?seconds=abc', 400, 'invalid-request'],
    ['/v1/admin/person', 400, 'invalid-request'],
    ['/v1/admin/person?niss=12345678901', 400, 'invalid-niss'],
    ['/v1/admin/audit?kind=gossip', 400, 'invalid-request'],
  ]) {
    const answer = await call(target);
    assert.equal(answer.status, status, target);
    assert.equal(answer.body.error.code, code, target);
    assert.ok(answer.body.error.message.length > 0, target);
  }
  const posted = await call('/v1/admin/queues', { method: 'POST' });
  assert.equal(posted.status, 400);
  assert.match(posted.body.error.message, /GET/);
});

// WCAG 2.1 A and AA rules of axe-core on the page as it is; serious and
// critical violations fail, with where they are.
async function accessibilityViolations() {
  // Through the DevTools protocol: the console's CSP (rightly) refuses inline scripts.
  await page.evaluate(AXE_SOURCE);
  const result = await page.evaluate(async () => window.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
  }));
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
}

test('accessibility: no serious WCAG 2.1 AA violation on any page (axe-core)', async () => {
  const person = (await admin('/v1/admin/audit?kind=consultation&limit=20')).records.find((r) => r.niss)?.niss;
  const pages = ['#/dashboard', '#/network', '#/authorizations', '#/queues', '#/audit'];
  if (person) pages.push(`#/person/${person}`);
  const found = [];
  for (const hash of pages) {
    await open(hash);
    await page.locator('#page [data-testid], #page table, #page .panel').first().waitFor();
    await page.waitForTimeout(300);  // charts and tables settle
    for (const violation of await accessibilityViolations()) found.push(`${hash}: ${violation}`);
  }
  assert.deepEqual(found, []);
});

test('accessibility: the sidebar marks the current page, and navigation moves the focus to it', async () => {
  await open('#/network');
  await page.waitForFunction(() => document.querySelector('.sidebar nav a[aria-current="page"]')?.dataset.page === 'network');
  assert.equal(await page.locator('.sidebar nav a[aria-current]').count(), 1);
  await page.waitForFunction(() => document.activeElement?.id === 'page-title');
});

test('accessibility: the authorization matrix works with the keyboard', async () => {
  await open('#/authorizations');
  const cell = page.locator('[data-testid="matrix"] [role="button"]').first();
  await cell.waitFor();
  assert.ok((await cell.getAttribute('aria-label')).length > 0);
  await page.fill('input[aria-label="Filter"]', '');
  await cell.focus();
  await page.keyboard.press('Enter');
  // Picking a cell filters the list to it, as a click does.
  await page.waitForFunction(() => document.querySelector('input[aria-label="Filter"]').value !== '');
  const picked = await page.inputValue('input[aria-label="Filter"]');
  await page.fill('input[aria-label="Filter"]', '');
  await cell.focus();
  await page.keyboard.press(' ');
  await page.waitForFunction((v) => document.querySelector('input[aria-label="Filter"]').value === v, picked);
});

test('no request left the hub, and no script error', () => {
  assert.deepEqual(foreignRequests, []);
  assert.deepEqual(pageErrors, []);
});
