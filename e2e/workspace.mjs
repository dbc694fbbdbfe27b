// Browser flow of the staff workspace, run against a server that is already listening
// (KEIKAKU_URL) with a draft edition (KEIKAKU_DRAFT, e.g. r4-r6) of municipality 072052 and two
// accounts whose password is KEIKAKU_PASSWORD: `kikaku` (planning) and `kikaku-ka` (department
// 企画政策課).
//
// The year's round as staff live it: the department edits a project and submits; the
// planning office returns it with a comment; the department sees the comment, fixes and
// resubmits; the planning office approves and publishes; the change appears on the public
// portal, and a correction made after publication appears in the project's public history.
// axe-core (WCAG 2.1 A/AA) must report 0 violations on every workspace page, at desktop width
// and on a phone; pages must not scroll sideways on the phone. Screenshots go to ARTIFACTS.
import { chromium } from 'playwright-core';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';

const require = createRequire(import.meta.url);
const base = (process.env.KEIKAKU_URL || 'http://127.0.0.1:8080').replace(/\/$/, '');
const draft = process.env.KEIKAKU_DRAFT || 'r4-r6';
const password = process.env.KEIKAKU_PASSWORD || '';
const artifacts = process.env.ARTIFACTS || path.resolve(path.dirname(new URL(import.meta.url).pathname), '../artifacts/screenshots');
fs.mkdirSync(artifacts, { recursive: true });
const axePath = require.resolve('axe-core');
const origin = new URL(base).origin;
const department = '企画政策課';

const failures = [];
const fail = (message) => { failures.push(message); console.error(`FAIL ${message}`); };
const pass = (message) => console.log(`ok   ${message}`);
const check = (condition, message) => (condition ? pass(message) : fail(message));

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic'],
});

async function person(options = {}) {
  // axe is injected as a script, which the workspace's CSP rightly forbids: the test browser
  // bypasses CSP for it.
  const context = await browser.newContext({ locale: 'ja-JP', bypassCSP: true, ...options });
  const page = await context.newPage();
  page.on('request', (request) => {
    const url = request.url();
    if (!url.startsWith(origin) && !url.startsWith('data:')) fail(`request left the server: ${url}`);
  });
  page.on('console', (message) => {
    const expected = message.text().includes('status of 4');
    if (message.type() === 'error' && !expected) fail(`console error on ${page.url()}: ${message.text()}`);
  });
  return { context, page };
}

async function audit(page, label) {
  await page.addScriptTag({ path: axePath });
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    return await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } });
  });
  if (result.violations.length === 0) pass(`axe: ${label}`);
  for (const v of result.violations) {
    fail(`axe: ${label}: ${v.id} (${v.impact}) ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
  }
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  if (overflow > 1) fail(`${label}: page scrolls sideways by ${overflow}px`);
  await page.screenshot({ path: path.join(artifacts, `admin-${label.replace(/[^a-z0-9-]+/gi, '-')}.png`), fullPage: true });
}

async function signIn(page, login) {
  await page.goto(`${base}/admin`);
  check(page.url().endsWith('/admin/login'), `${login}: /admin leads to the sign-in form`);
  await page.getByLabel('ログイン名').fill(login);
  await page.getByLabel('パスワード').fill(password);
  await page.getByRole('button', { name: 'ログイン' }).click();
  await page.waitForURL(/\/admin$/);
  const cookies = await page.context().cookies();
  const session = cookies.find((c) => c.name === 'keikaku_session');
  check(session && session.httpOnly && session.sameSite === 'Strict', `${login}: session cookie is HttpOnly and SameSite=Strict`);
}

async function partRow(page) {
  await page.goto(`${base}/admin/072052/${draft}`);
  return page.getByRole('row', { name: new RegExp(department) });
}

const dashboard = `${base}/admin/072052/${draft}`;
const sizes = [['desktop', { viewport: { width: 1280, height: 900 } }],
  ['phone', { viewport: { width: 375, height: 740 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true }]];

// 1. The department: signs in, edits its project, submits.
const dept = await person(sizes[0][1]);
await signIn(dept.page, 'kikaku-ka');
await audit(dept.page, 'home-desktop');
await dept.page.goto(dashboard);
await audit(dept.page, 'dashboard-department-desktop');
await dept.page.goto(`${dashboard}/projects`);
check(await dept.page.getByRole('heading', { name: '担当する事業' }).isVisible(), 'department sees its own projects');
await audit(dept.page, 'projects-desktop');
const firstProject = dept.page.getByRole('table').getByRole('link').first();
const projectName = (await firstProject.textContent()).trim();
await firstProject.click();
await dept.page.waitForURL(/\/projects\/.+/);
const projectUrl = dept.page.url();
await audit(dept.page, 'project-form-desktop');
// A mistake first: the error is shown next to the field, nothing is saved.
const firstYear = dept.page.locator('input[name$=".general"]').first();
const before = await firstYear.inputValue();
await firstYear.fill('12,3x');
await dept.page.getByRole('button', { name: '保存する' }).click();
check(await dept.page.locator('.field-error').first().isVisible(), 'an invalid amount is shown next to its field');
await audit(dept.page, 'project-form-error-desktop');
await dept.page.locator('input[name$=".general"]').first().fill(before);
const summary = `電子申請に対応し、窓口の待ち時間を短縮する（${Date.now()}）`;
await dept.page.getByLabel('事業概要').fill(summary);
await dept.page.getByLabel('変更理由').fill('事業内容の見直し');
await dept.page.getByRole('button', { name: '保存する' }).click();
await dept.page.waitForURL(projectUrl);
check((await dept.page.getByLabel('事業概要').inputValue()) === summary, 'the department\'s change is saved');
await (await partRow(dept.page)).getByRole('button', { name: '提出' }).click();
await dept.page.waitForURL(dashboard);
check(await (await partRow(dept.page)).getByText('提出').first().isVisible(), 'the part is submitted');

// 2. The planning office returns it with a comment.
const planning = await person(sizes[0][1]);
await signIn(planning.page, 'kikaku');
await planning.page.goto(dashboard);
await audit(planning.page, 'dashboard-planning-desktop');
const row = await partRow(planning.page);
await row.getByLabel('差戻しの理由').fill('R5 の事業費を確認してください');
await row.getByRole('button', { name: '差戻し' }).click();
await planning.page.waitForURL(dashboard);

// 3. The department sees the comment, fixes and resubmits.
const returned = await partRow(dept.page);
check(await returned.getByText('R5 の事業費を確認してください').isVisible(), 'the department sees the return comment');
await dept.page.goto(projectUrl);
await dept.page.getByLabel('変更理由').fill('差戻しを受けて確認');
const fixed = `${summary}（確認済み）`;
await dept.page.getByLabel('事業概要').fill(fixed);
await dept.page.getByRole('button', { name: '保存する' }).click();
await dept.page.waitForURL(projectUrl);
await (await partRow(dept.page)).getByRole('button', { name: '提出' }).click();
await dept.page.waitForURL(dashboard);

// 4. The planning office approves and publishes (other departments are not approved: forced,
// which is recorded).
await (await partRow(planning.page)).getByRole('button', { name: '承認' }).click();
await planning.page.waitForURL(dashboard);
await planning.page.getByLabel(/強制的に|承認されていない担当課/).check();
await planning.page.getByRole('button', { name: 'この計画を公開する' }).click();
await planning.page.waitForURL(dashboard);
check(await planning.page.getByText('公開中').first().isVisible(), 'the edition is published');
await planning.page.goto(`${base}/admin/072052/audit`);
await audit(planning.page, 'audit-desktop');
check(await planning.page.getByText('publish-forced').first().isVisible(), 'the forced publication is on record');

// 5. The public portal shows the change; a correction appears in the project's history.
const citizen = await person(sizes[0][1]);
const publicUrl = `${base}/072052/${draft}/search?q=${encodeURIComponent('確認済み')}`;
let found = false;
for (let i = 0; i < 30 && !found; i += 1) {
  await citizen.page.goto(publicUrl);
  found = await citizen.page.getByRole('link', { name: new RegExp(projectName.slice(0, 8)) }).first().isVisible().catch(() => false);
  if (!found) await citizen.page.waitForTimeout(500);
}
check(found, 'the published change is found on the public portal');
await planning.page.goto(projectUrl);
await planning.page.getByLabel('事業概要').fill(`${fixed}。`);
await planning.page.getByLabel('変更理由').fill('句点の追加');
await planning.page.getByRole('button', { name: '保存する' }).click();
await planning.page.waitForURL(projectUrl);
let corrected = false;
await citizen.page.getByRole('link', { name: new RegExp(projectName.slice(0, 8)) }).first().click();
const publicProject = citizen.page.url();
for (let i = 0; i < 30 && !corrected; i += 1) {
  await citizen.page.goto(publicProject);
  corrected = await citizen.page.getByRole('heading', { name: '公開後の訂正' }).isVisible().catch(() => false);
  if (!corrected) await citizen.page.waitForTimeout(500);
}
check(corrected, 'the correction appears in the public project history');
check(await citizen.page.getByText('句点の追加').isVisible(), 'with its reason');
check(!(await citizen.page.content()).includes('kikaku'), 'without the editor\'s login');

// 6. Phone: the workspace pages fit.
const phone = await person(sizes[1][1]);
await signIn(phone.page, 'kikaku');
for (const [label, url] of [['home', '/admin'], ['dashboard', `/admin/072052/${draft}`], ['projects', `/admin/072052/${draft}/projects`], ['audit', '/admin/072052/audit']]) {
  await phone.page.goto(base + url);
  await audit(phone.page, `${label}-phone`);
}
await phone.page.goto(projectUrl);
await audit(phone.page, 'project-form-phone');

// 7. Sign out ends the session.
await dept.page.goto(`${base}/admin`);
await dept.page.getByRole('button', { name: 'ログアウト' }).click();
await dept.page.waitForURL(/\/admin\/login$/);
await dept.page.goto(`${base}/admin`);
check(dept.page.url().endsWith('/admin/login'), 'after sign-out the workspace asks for sign-in again');

await browser.close();
if (failures.length) {
  console.error(`\n${failures.length} failure(s)`);
  process.exit(1);
}
console.log('\nall workspace browser checks passed');
