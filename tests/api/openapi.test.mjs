// SPDX-License-Identifier: EUPL-1.2
// docs/openapi.yaml against the real thing (docs/api.md sections 4 to 6).
//
// 1. Lints the file as OpenAPI 3.1 (swagger-parser: structure, $refs) and
//    checks that every endpoint and every error code of docs/api.md is in it.
// 2. When a running network is given, sends real requests — answered ones,
//    refused ones, broken ones — to the hub API (mutual TLS, as an
//    institution), to a connector (as the hub) and to the admin listener, and
//    validates every answer (status, content type, body) against the
//    operation's response schema with ajv (JSON Schema 2020-12). An endpoint
//    the hub does not have yet ("no endpoint ...") is reported and skipped.
//
//   OPENAPI_FILE=docs/openapi.yaml node --test openapi.test.mjs            # lint only
//   HUB_URL=https://127.0.0.1:8443 ADMIN_URL=http://127.0.0.1:8080 PKI_DIR=demo/pki \
//   PROVIDER_URL=https://127.0.0.1:9101 [ADMIN_TOKEN=...] node --test openapi.test.mjs
//
// tests/api/run.sh brings up `carrefour demo` and runs this file against it.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import SwaggerParser from '@apidevtools/swagger-parser';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const OPENAPI_FILE = process.env.OPENAPI_FILE || path.join(HERE, '../../docs/openapi.yaml');
const HUB_URL = process.env.HUB_URL;
const ADMIN_URL = process.env.ADMIN_URL;
const PKI_DIR = process.env.PKI_DIR;
const PROVIDER_URL = process.env.PROVIDER_URL;
const ADMIN_TOKEN = process.env.ADMIN_TOKEN || '';

// What docs/api.md fixes: the endpoints of sections 4 to 6 and the codes.
const CONTRACT_ENDPOINTS = [
  'POST /v1/directory/entries', 'GET /v1/directory/entries', 'POST /v1/consultations',
  'POST /v1/consultations/batch', 'POST /v1/mutations', 'GET /v1/mutations/feed', 'POST /v1/bis',
  'GET /v1/transparency', 'POST /v1/provide', 'GET /healthz', 'GET /readyz', 'GET /metrics',
  'GET /openapi.yaml', 'GET /v1/admin/network', 'GET /v1/admin/directory', 'GET /v1/admin/audit',
  'GET /v1/admin/audit/verify', 'GET /v1/admin/transparency', 'POST /v1/admin/reload',
  'GET /v1/admin/audit/checkpoint', 'GET /v1/admin/audit/key', 'GET /v1/admin/audit/proof',
  'GET /v1/admin/audit/consistency',
];
const CONTRACT_CODES = {
  400: ['invalid-json', 'invalid-request', 'invalid-niss', 'invalid-period'],
  403: ['unknown-institution', 'not-integrated', 'not-authorized', 'not-a-source', 'capacity-not-allowed'],
  404: ['unknown-data-type', 'not-found'],
  413: ['body-too-large'],
  429: ['rate-limited'],
  503: ['unavailable'],
  504: ['timeout'],
};

let api;  // dereferenced
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
const validators = new Map();
const checked = [];  // "METHOD path status" of every validated answer
const missing = [];  // endpoints the running hub does not have yet

test('docs/openapi.yaml is valid OpenAPI 3.1', async () => {
  const text = fs.readFileSync(OPENAPI_FILE, 'utf8');
  assert.match(text, /^openapi: 3\.1\.\d+$/m);
  // validate() lints the structure against the 3.1 schema and resolves every $ref.
  api = await SwaggerParser.validate(OPENAPI_FILE);
  assert.equal(api.info.license.identifier, 'EUPL-1.2');
});

test('every endpoint and error code of docs/api.md is described', () => {
  assert.ok(api, 'lint first');
  for (const endpoint of CONTRACT_ENDPOINTS) {
    const [method, route] = endpoint.split(' ');
    assert.ok(api.paths[route]?.[method.toLowerCase()], `${endpoint} is not in docs/openapi.yaml`);
  }
  const codes = api.components.schemas.ErrorCode.enum;
  for (const [status, list] of Object.entries(CONTRACT_CODES)) {
    for (const code of list) assert.ok(codes.includes(code), `error code ${code} (${status}) is missing`);
  }
  // Each status of the table is answered somewhere, with its codes allowed.
  const text = JSON.stringify(api.paths);
  for (const code of Object.values(CONTRACT_CODES).flat()) assert.ok(text.includes(code), `no response allows ${code}`);
  const quota = api.paths['/v1/consultations'].post.responses['429'];
  assert.ok(quota.headers['Retry-After'], '429 must name Retry-After');
});

// ---- requests to a running network ----

function tls(name) {
  return {
    cert: fs.readFileSync(path.join(PKI_DIR, `${name}.crt`)),
    key: fs.readFileSync(path.join(PKI_DIR, `${name}.key`)),
    ca: fs.readFileSync(path.join(PKI_DIR, 'ca.crt')),
  };
}

function request(base, method, pathAndQuery, { body, as, headers = {} } = {}) {
  const url = new URL(pathAndQuery, base);
  const options = { method, headers: { ...headers } };
  if (as) Object.assign(options, tls(as));
  if (body !== undefined) {
    options.headers['content-type'] = 'application/json';
    options.headers['content-length'] = Buffer.byteLength(body);
  }
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(url, options, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.setTimeout(30000, () => req.destroy(new Error(`${method} ${url}: no answer in 30 s`)));
    if (body !== undefined) req.write(body);
    req.end();
  });
}

function validatorFor(route, method, status, mediaType) {
  const key = `${method} ${route} ${status} ${mediaType}`;
  if (!validators.has(key)) {
    const operation = api.paths[route]?.[method.toLowerCase()];
    assert.ok(operation, `${method} ${route} is not in docs/openapi.yaml`);
    const response = operation.responses[String(status)];
    assert.ok(response, `${method} ${route} answered ${status}, which docs/openapi.yaml does not list`);
    const content = response.content?.[mediaType];
    assert.ok(content, `${method} ${route} ${status}: ${mediaType} is not a documented content type`);
    validators.set(key, { schema: content.schema ? ajv.compile(content.schema) : null, response });
  }
  return validators.get(key);
}

// Checks one real answer against the description; returns the parsed body.
function check(route, method, answer) {
  const type = (answer.headers['content-type'] || '').split(';')[0].trim();
  const { schema, response } = validatorFor(route, method, answer.status, type);
  for (const [name, header] of Object.entries(response.headers || {})) {
    if (header.required) assert.ok(answer.headers[name.toLowerCase()] !== undefined, `${method} ${route} ${answer.status}: no ${name} header`);
  }
  const body = type === 'application/json' ? JSON.parse(answer.text) : answer.text;
  if (schema && !schema(body)) {
    assert.fail(`${method} ${route} ${answer.status} does not match docs/openapi.yaml: ${ajv.errorsText(schema.errors)}\n${answer.text.slice(0, 800)}`);
  }
  checked.push(`${method} ${route} ${answer.status}`);
  return body;
}

// True (and remembered) when the hub does not serve this endpoint yet.
function notBuiltYet(route, method, answer) {
  if (answer.status === 404 && /no (admin )?endpoint/.test(answer.text)) {
    missing.push(`${method} ${route}`);
    return true;
  }
  return false;
}

const adminHeaders = ADMIN_TOKEN ? { authorization: `Bearer ${ADMIN_TOKEN}` } : {};
const admin = (method, pathAndQuery, body) => request(ADMIN_URL, method, pathAndQuery, { body, headers: adminHeaders });
const live = HUB_URL && ADMIN_URL && PKI_DIR;

test('the running network answers as docs/openapi.yaml says', { skip: !live && 'no HUB_URL/ADMIN_URL/PKI_DIR' }, async () => {
  assert.ok(api, 'lint first');

  // Served by the admin listener, byte for byte the repository's file.
  const served = await request(ADMIN_URL, 'GET', '/openapi.yaml');
  check('/openapi.yaml', 'GET', served);
  assert.equal(served.text, fs.readFileSync(OPENAPI_FILE, 'utf8'), 'GET /openapi.yaml differs from docs/openapi.yaml');

  for (const route of ['/healthz', '/readyz', '/metrics', '/v1/admin/network', '/v1/admin/audit/verify']) {
    check(route, 'GET', await admin('GET', route));
  }
  if (ADMIN_TOKEN) check('/metrics', 'GET', await request(ADMIN_URL, 'GET', '/metrics'));  // 403 without it

  // A consultation the network really made: its requester and person.
  const recent = check('/v1/admin/audit', 'GET', await admin('GET', '/v1/admin/audit?kind=consultation&limit=50'));
  const answered = recent.records.find((r) => r.outcome === 'ok' && r.niss);
  assert.ok(answered, 'the demo traffic made no answered consultation yet');
  const { requester: as, niss, data_type: dataType } = answered;
  check('/v1/admin/audit', 'GET', await admin('GET', `/v1/admin/audit?niss=${niss}&limit=5`));
  check('/v1/admin/audit', 'GET', await admin('GET', '/v1/admin/audit?limit=x'));
  check('/v1/admin/directory', 'GET', await admin('GET', `/v1/admin/directory?niss=${niss}`));
  check('/v1/admin/directory', 'GET', await admin('GET', '/v1/admin/directory?niss=123'));
  check('/v1/admin/transparency', 'GET', await admin('GET', `/v1/admin/transparency?niss=${niss}`));
  check('/v1/admin/transparency', 'GET', await admin('GET', '/v1/admin/transparency'));
  check('/v1/admin/reload', 'POST', await admin('POST', '/v1/admin/reload', ''));

  // Section 6.1, where it is built.
  const checkpoint = await admin('GET', '/v1/admin/audit/checkpoint');
  if (!notBuiltYet('/v1/admin/audit/checkpoint', 'GET', checkpoint)) {
    check('/v1/admin/audit/checkpoint', 'GET', checkpoint);
    check('/v1/admin/audit/key', 'GET', await admin('GET', '/v1/admin/audit/key'));
    const size = Number(checkpoint.text.split('\n')[1]);
    if (size > 1) {
      check('/v1/admin/audit/proof', 'GET', await admin('GET', `/v1/admin/audit/proof?index=0&size=${size}`));
      check('/v1/admin/audit/consistency', 'GET', await admin('GET', `/v1/admin/audit/consistency?from=1&to=${size}`));
    }
    check('/v1/admin/audit/proof', 'GET', await admin('GET', '/v1/admin/audit/proof?index=x&size=1'));
  }

  // The hub API as that institution.
  const hub = (method, route, body) => request(HUB_URL, method, route, { body, as });
  const consulted = check('/v1/consultations', 'POST', await hub('POST', '/v1/consultations', JSON.stringify({ data_type: dataType, niss })));
  assert.equal(consulted.niss, niss);
  check('/v1/consultations', 'POST', await hub('POST', '/v1/consultations', '{"data_type":'));
  check('/v1/consultations', 'POST', await hub('POST', '/v1/consultations', JSON.stringify({ data_type: dataType, niss: '85073003329' })));
  check('/v1/consultations', 'POST', await hub('POST', '/v1/consultations', JSON.stringify({ data_type: 'no.such-type', niss })));
  check('/v1/consultations', 'POST', await hub('POST', '/v1/consultations', JSON.stringify({ data_type: dataType, niss, period: { from: '2024-05-01', to: '2024-01-01' } })));
  check('/v1/consultations', 'POST', await hub('POST', '/v1/consultations', JSON.stringify({ data_type: dataType, niss: '17073003384' })));
  check('/v1/consultations', 'POST', await hub('POST', '/v1/consultations', JSON.stringify({ niss, data_type: dataType, pad: 'x'.repeat(9 * 1024 * 1024) })));

  check('/v1/directory/entries', 'GET', await hub('GET', `/v1/directory/entries?niss=${niss}`));
  check('/v1/directory/entries', 'GET', await hub('GET', '/v1/directory/entries'));
  const entries = await hub('GET', `/v1/directory/entries?niss=${niss}`);
  const own = JSON.parse(entries.text).entries[0];
  check('/v1/directory/entries', 'POST', await hub('POST', '/v1/directory/entries', JSON.stringify({
    entries: [
      { action: 'add', niss, capacity: own.capacity, from: own.from, to: own.to },  // idempotent
      { action: 'close', niss: '17073003384', capacity: own.capacity, from: '2020-01-01', to: '2020-12-31' },
      { action: 'add', niss, capacity: 'no-such-capacity', from: '2020-01-01', to: null },
    ],
  })));
  check('/v1/directory/entries', 'POST', await hub('POST', '/v1/directory/entries', JSON.stringify({ entries: 'no' })));

  check('/v1/mutations/feed', 'GET', await hub('GET', '/v1/mutations/feed?after=0&limit=5&wait=0'));
  check('/v1/mutations', 'POST', await hub('POST', '/v1/mutations', JSON.stringify({
    mutations: [{ id: 'openapi-test-1', data_type: dataType, niss, effective: '2024-01-01', data: {} }],
  })));
  check('/v1/mutations', 'POST', await hub('POST', '/v1/mutations', JSON.stringify({ mutations: {} })));
  check('/v1/bis', 'POST', await hub('POST', '/v1/bis', JSON.stringify({ last_name: 'Test' })));

  // Sections 4.5 and 4.6, where they are built.
  const batch = await hub('POST', '/v1/consultations/batch', JSON.stringify({
    consultations: [{ data_type: dataType, niss }, { data_type: dataType, niss: '17073003384' }, { data_type: dataType, niss: '1' }],
  }));
  if (!notBuiltYet('/v1/consultations/batch', 'POST', batch)) {
    check('/v1/consultations/batch', 'POST', batch);
    check('/v1/consultations/batch', 'POST', await hub('POST', '/v1/consultations/batch', '{}'));
  }
  const transparency = await hub('GET', `/v1/transparency?niss=${niss}`);
  if (!notBuiltYet('/v1/transparency', 'GET', transparency)) {
    check('/v1/transparency', 'GET', transparency);
    // The demo's citizen portal (examples/network.toml): the view itself,
    // and a bad number.
    if (fs.existsSync(path.join(PKI_DIR, 'mydata.crt'))) {
      const portal = (route) => request(HUB_URL, 'GET', route, { as: 'mydata' });
      const view = await portal(`/v1/transparency?niss=${niss}`);
      assert.equal(view.status, 200, view.text);
      check('/v1/transparency', 'GET', view);
      check('/v1/transparency', 'GET', await portal('/v1/transparency?niss=12345678901'));
    }
  }

  // The provide protocol: a connector, called as the hub.
  if (PROVIDER_URL) {
    const provide = (body) => request(PROVIDER_URL, 'POST', '/v1/provide', { body: JSON.stringify(body), as: 'hub' });
    const ask = {
      request_id: 'openapi-test', data_type: dataType, niss, period: { from: '2024-01-01', to: '2024-01-01' },
      fields: [], requester: as, legal_basis: 'test',
    };
    const answer = await provide(ask);
    if (answer.status === 200 || answer.status === 404) check('/v1/provide', 'POST', answer);
    const none = await provide({ ...ask, niss: '17073003384' });
    if (none.status === 200 || none.status === 404) check('/v1/provide', 'POST', none);
  }

  console.log(`validated ${checked.length} answers: ${[...new Set(checked)].sort().join(', ')}`);
  if (missing.length) console.log(`not built by this hub yet (described from docs/api.md): ${missing.join(', ')}`);
  assert.ok(checked.length >= 30);
});
