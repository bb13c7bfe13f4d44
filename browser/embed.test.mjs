// The real Visual Embed SDK (npm, pinned in package-lock.json) in headless Chromium
// (Debian's `chromium`), on a page at http://localhost:<port> that signs its user in at the
// token service's test identity provider, against `thoughtspot-token-service` and
// `fake-thoughtspot`, both built by `scripts/test`. Run with `npm test` here.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer from 'puppeteer-core';

const here = dirname(fileURLToPath(import.meta.url));
const bin = process.env.BROWSER_BIN_DIR ?? cargoBinDir();
const chromium = process.env.CHROMIUM ?? '/usr/bin/chromium';
const SECRET_KEY = 'browser-test-secret-key';
const RECHECK_SECS = 2;

/**
 * Where cargo put the debug binaries: `cargo metadata`'s `target_directory`, which follows
 * `CARGO_TARGET_DIR`, `CARGO_BUILD_TARGET_DIR` and `build.target-dir` in any config file,
 * then `<triple>/` when `CARGO_BUILD_TARGET` names one, then `debug/`.
 */
function cargoBinDir() {
  const cargo = process.env.CARGO ?? 'cargo';
  const metadata = JSON.parse(execFileSync(cargo, ['metadata', '--format-version', '1', '--no-deps'], {
    cwd: join(here, '..'),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    timeout: 60000,
  }));
  const triple = process.env.CARGO_BUILD_TARGET;
  return join(metadata.target_directory, ...(triple ? [triple] : []), 'debug');
}

for (const [what, path, how] of [
  ['Chromium', chromium, 'install it (Debian: apt-get install chromium) or set CHROMIUM'],
  ['fake-thoughtspot', join(bin, 'fake-thoughtspot'), 'build it: cargo build -p thoughtspot-session-mock --features server --bin fake-thoughtspot'],
  ['the token service', join(bin, 'thoughtspot-token-service'), 'build it: cargo build -p thoughtspot-token-service'],
  ['the Visual Embed SDK', join(here, 'node_modules/@thoughtspot/visual-embed-sdk/dist/tsembed.js'), 'run npm ci in browser/'],
]) {
  if (!existsSync(path)) {
    throw new Error(`${what} is missing at ${path}: ${how}`);
  }
}

const children = [];

/** Starts `command` and resolves with the first stdout line that `pattern` matches. */
function start(command, args, env, pattern) {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`${command} printed no ${pattern} within 20 s: ${seen}`)), 20000);
    child.stdout.on('data', (chunk) => {
      seen += chunk;
      const found = seen.match(pattern);
      if (found) {
        clearTimeout(timer);
        resolve(found[1]);
      }
    });
    child.on('exit', (code) => reject(new Error(`${command} exited with ${code}: ${seen}`)));
  });
}

/** The page server: the test page and the SDK bundle, on a loopback port of its own. */
function pageServer() {
  const sdk = readFileSync(join(here, 'node_modules/@thoughtspot/visual-embed-sdk/dist/tsembed.js'));
  const page = readFileSync(join(here, 'page.html'));
  const server = createServer((request, response) => {
    const path = new URL(request.url, 'http://localhost').pathname;
    const [type, body] = path === '/sdk/tsembed.js' ? ['text/javascript', sdk] : ['text/html', page];
    response.writeHead(200, { 'content-type': type });
    response.end(body);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

let browser, allowed, offList, host, service, profile;

before(async () => {
  allowed = await pageServer();
  offList = await pageServer();
  const origin = `http://localhost:${allowed.address().port}`;
  host = await start(
    join(bin, 'fake-thoughtspot'),
    ['--port', '0', '--quiet', '--user', 'alice@example.com:pw', '--user', 'bob@example.com:pw',
      '--secret-key', SECRET_KEY, '--cors-origin', origin],
    {},
    /(http:\/\/127\.0\.0\.1:\d+)/,
  );
  profile = mkdtempSync(join(tmpdir(), 'ts-chromium-'));
  // The service's configuration: the test identity provider (allowed: the cluster and the
  // service are on loopback), the email claim as the user, a region claim as an ABAC rule
  // that lets users without the claim through (the opt-in; the default refuses them).
  const config = join(profile, 'token-service.toml');
  writeFileSync(config, [
    'test_idp = true',
    '[mapping]', 'user_claim = "email"',
    '[[abac.rules]]', 'claim = "region"', 'column = "Region"', 'when_missing = "skip"',
    // Cached tokens older than 2 s are checked at the cluster before they are served again.
    '[limits]', `token_recheck_secs = ${RECHECK_SECS}`, '',
  ].join('\n'));
  service = await start(
    join(bin, 'thoughtspot-token-service'),
    ['--config', config],
    {
      TS_BASE_URL: host,
      TS_SECRET_KEY: SECRET_KEY,
      TOKEN_SERVICE_ADDR: '127.0.0.1:0',
      TOKEN_SERVICE_ORIGINS: origin,
      TOKEN_SERVICE_LOG: 'off',
    },
    /token service on (http:\/\/127\.0\.0\.1:\d+)/,
  );
  browser = await puppeteer.launch({
    executablePath: chromium,
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      `--user-data-dir=${profile}`,
    ],
  });
});

after(async () => {
  await browser?.close();
  for (const child of children) child.kill('SIGTERM');
  allowed?.close();
  offList?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

/** Opens the page at `server` with `auth` and waits for the SDK's verdict. */
async function open(server, auth, user = 'alice@example.com', region = '', hint = true) {
  const page = await browser.newPage();
  const url = new URL(`http://localhost:${server.address().port}/`);
  // The cluster as `localhost` too: another origin (its own port), the same site, so the
  // session cookie reaches it whatever the browser's third-party cookie policy (which no
  // fake can stand in for: a real embedding is cross-site, where cookieless is the way).
  url.searchParams.set('host', host.replace('127.0.0.1', 'localhost'));
  url.searchParams.set('service', service);
  url.searchParams.set('user', user);
  if (region) url.searchParams.set('region', region);
  if (!hint) url.searchParams.set('hint', 'off');
  url.searchParams.set('auth', auth);
  await page.goto(url.toString());
  await verdict(page);
  return page;
}

/**
 * The SDK's own post-login session info: proves the cross-origin, bearer-authenticated
 * `callosum/v1/session/info` call passed CORS and was answered for the right user.
 * (`AuthStatus.SUCCESS` comes only from the embedded app's handshake inside the iframe,
 * which a page with no embedded component never starts: `SDK_SUCCESS` is the SDK's verdict.)
 */
function sessionInfo(page) {
  return page.evaluate(async () => {
    const info = await tsembed.getSessionInfo();
    return { userGUID: info.userGUID, releaseVersion: info.releaseVersion, currentOrgId: info.currentOrgId };
  });
}

async function verdict(page, count = 1) {
  await page.waitForFunction(
    (n) => window.__events.filter((e) => e === 'SDK_SUCCESS' || e === 'FAILURE').length >= n,
    { timeout: 20000 },
    count,
  );
  return page.evaluate(() => ({ events: window.__events, tokens: window.__tokens }));
}

test('cookieless trusted authentication succeeds, and a revoked token is replaced through getAuthToken', async () => {
  const page = await open(allowed, 'cookieless');
  let seen = await page.evaluate(() => ({ events: window.__events, tokens: window.__tokens }));
  assert.deepEqual(seen.events, ['SDK_SUCCESS'], JSON.stringify(seen));
  assert.equal(seen.tokens.length, 1);
  const info = await sessionInfo(page);
  assert.ok(info.userGUID && info.releaseVersion, JSON.stringify(info));
  // The front end reports the token rejected: the service invalidates it, which revokes it
  // on the cluster. The SDK's cached token now fails verification: it asks for a new one.
  const rejected = seen.tokens[0];
  const idToken = await page.evaluate(() => window.__idToken());
  const report = await fetch(`${service}/token/invalidate`, {
    method: 'POST',
    headers: { authorization: `Bearer ${idToken}`, 'content-type': 'text/plain' },
    body: rejected,
  });
  assert.equal(report.status, 204);
  const check = await fetch(`${host}/callosum/v1/session/isactive`, { headers: { authorization: `Bearer ${rejected}` } });
  assert.equal(check.status, 401, 'revoked on the cluster');
  await page.evaluate(() => window.__init());
  seen = await verdict(page, 2);
  assert.equal(seen.tokens.length, 2, 'getAuthToken was asked again');
  assert.notEqual(seen.tokens[1], rejected);
  assert.deepEqual(seen.events, ['SDK_SUCCESS', 'SDK_SUCCESS'], JSON.stringify(seen));
  await page.close();
});

test('a token revoked on the cluster behind the service is replaced, not handed back as a "duplicate token", without a reload', async () => {
  // An administrator revokes the token directly on the cluster (not through the service).
  const revokeOnTheCluster = async (token) => {
    const r = await fetch(`${host}/api/rest/2.0/auth/token/revoke`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ token }),
    });
    assert.equal(r.status, 204);
    const check = await fetch(`${host}/callosum/v1/session/isactive`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(check.status, 401, 'revoked on the cluster');
  };
  // The page names the token that failed: a new one at once.
  const page = await open(allowed, 'cookieless');
  let seen = await page.evaluate(() => ({ events: window.__events, tokens: window.__tokens }));
  assert.deepEqual(seen.events, ['SDK_SUCCESS'], JSON.stringify(seen));
  await revokeOnTheCluster(seen.tokens[0]);
  await page.evaluate(() => window.__init());
  seen = await verdict(page, 2);
  assert.equal(seen.tokens.length, 2, 'getAuthToken was asked again');
  assert.notEqual(seen.tokens[1], seen.tokens[0]);
  assert.deepEqual(seen.events, ['SDK_SUCCESS', 'SDK_SUCCESS'], JSON.stringify(seen));

  // A page that names nothing (bob's): within the recheck time the service hands the dead
  // token back and the SDK refuses it as a duplicate (the failure this guards against);
  // once it is older than that, the service checks it at the cluster and replaces it.
  const plain = await open(allowed, 'cookieless', 'bob@example.com', '', false);
  seen = await plain.evaluate(() => ({ events: window.__events, tokens: window.__tokens }));
  assert.deepEqual(seen.events, ['SDK_SUCCESS'], JSON.stringify(seen));
  const dead = seen.tokens[0];
  await revokeOnTheCluster(dead);
  await plain.evaluate(() => window.__init());
  seen = await verdict(plain, 2);
  if (seen.tokens[1] === dead) {
    assert.deepEqual(seen.events, ['SDK_SUCCESS', 'FAILURE'], JSON.stringify(seen));
  }
  await new Promise((resolve) => setTimeout(resolve, RECHECK_SECS * 1000 + 200));
  await plain.evaluate(() => window.__init());
  seen = await verdict(plain, 3);
  const last = seen.tokens[seen.tokens.length - 1];
  assert.notEqual(last, dead, 'the revoked token is not served again');
  assert.equal(seen.events[seen.events.length - 1], 'SDK_SUCCESS', JSON.stringify(seen));
  const active = await fetch(`${host}/callosum/v1/session/isactive`, { headers: { authorization: `Bearer ${last}` } });
  assert.equal(active.status, 200, 'the replacement works on the cluster');
  await page.close();
  await plain.close();
});

test('a user whose ID token carries a region gets a custom token with that ABAC rule, and the SDK signs in with it', async () => {
  const page = await open(allowed, 'cookieless', 'bob@example.com', 'west,north');
  const seen = await page.evaluate(() => ({ events: window.__events, tokens: window.__tokens }));
  assert.deepEqual(seen.events, ['SDK_SUCCESS'], JSON.stringify(seen));
  // What the cluster recorded of the token the SDK used: bob's, with his rule.
  const record = await (await fetch(`${host}/_fake/token`, { headers: { authorization: `Bearer ${seen.tokens[0]}` } })).json();
  assert.equal(record.user, 'bob@example.com');
  assert.deepEqual(record.rules, {
    persist_option: 'NONE',
    filter_rules: [{ column_name: 'Region', operator: 'IN', values: ['west', 'north'] }],
  });
  // Alice, with no region, gets a full token: no rules.
  const alice = await open(allowed, 'cookieless');
  const token = (await alice.evaluate(() => window.__tokens))[0];
  const plain = await (await fetch(`${host}/_fake/token`, { headers: { authorization: `Bearer ${token}` } })).json();
  assert.equal(plain.user, 'alice@example.com');
  assert.equal(plain.rules, null);
  // Without the ID token the service answers 401, never a token.
  const anonymous = await fetch(`${service}/token`);
  assert.equal(anonymous.status, 401);
  await page.close();
  await alice.close();
});

test('trusted authentication with a cookie logs in by token and the page then has a session', async () => {
  const page = await open(allowed, 'cookie');
  const seen = await page.evaluate(() => ({ events: window.__events, tokens: window.__tokens }));
  assert.deepEqual(seen.events, ['SDK_SUCCESS'], JSON.stringify(seen));
  const info = await sessionInfo(page);
  assert.ok(info.userGUID && info.releaseVersion, JSON.stringify(info));
  // The cookie the fake set is sent cross-site from the page: the session is active.
  const active = await page.evaluate(async (h) => {
    const r = await fetch(`${h}/callosum/v1/session/isactive`, { credentials: 'include', headers: { 'x-requested-by': 'ThoughtSpot' } });
    return r.status;
  }, host.replace('127.0.0.1', 'localhost'));
  assert.equal(active, 200);
  await page.close();
});

test('a page whose origin is not on the cluster allow-list fails, as on a cluster', async () => {
  const page = await open(offList, 'cookieless');
  const seen = await page.evaluate(() => ({ events: window.__events, tokens: window.__tokens }));
  assert.ok(seen.events.includes('FAILURE'), JSON.stringify(seen));
  assert.ok(!seen.events.includes('SDK_SUCCESS'), JSON.stringify(seen));
  await page.close();
});
