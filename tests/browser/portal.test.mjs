// The portal in real Chromium against the real services and broker (ctest -L browser).
// Waits are on what the page shows (selectors, text), bounded by playwright's timeouts;
// nothing sleeps to synchronise.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { System, signIn } from './harness.mjs';

const LIVE = { timeout: 30_000 };
const sys = new System();
const partner = `p-${sys.run}`;
const customer = `c-${sys.run}`;
const customerDomain = `contoso-${sys.run}.example`;
let partnerCtx;
let customerCtx;
let customersPage;  // the partner's Customers page, opened once and never reloaded

before(async () => {
  await sys.start();
  partnerCtx = await sys.newContext();
  customerCtx = await sys.newContext();
}, { timeout: 180_000 });

after(async () => {
  await sys.stop();
}, { timeout: 60_000 });

async function feedIsLive(page) {
  await page.waitForSelector('#feed-state[data-state="live"]', LIVE);
}

function adminCell(page, customerId) {
  return page.locator(`#c-${customerId} td.admin`);
}

async function createInvitation(page, fields) {
  await page.goto('/invitations/new');
  if (fields.domain) await page.fill('input[name=domain]', fields.domain);
  if (fields.tenant) await page.fill('input[name=customer_tenant]', fields.tenant);
  if (fields.admin === false) await page.uncheck('input[name=admin]');
  await page.click('#new-invitation button[type=submit]');
  await page.waitForSelector('[data-draft]');
  return page.locator('#draft-link').innerText();
}

describe('portal in Chromium', () => {
  it('seed flow: invite, accept, live row, revoke live, restore live — without a reload', async () => {
    customersPage = await partnerCtx.newPage();
    await customersPage.goto('/');
    await signIn(customersPage, partner, 'partner_admin', 'Fabrikam');
    assert.match(customersPage.url(), /\/customers$/);
    await feedIsLive(customersPage);
    await customersPage.evaluate(() => { window.__notReloaded = 'yes'; });

    // The partner requests a relationship and copies the link from the draft.
    const drafts = await partnerCtx.newPage();
    await drafts.goto('/invitations/new');
    await drafts.fill('input[name=domain]', customerDomain);
    await drafts.fill('textarea[name=message]', 'We would love to help.');
    await drafts.click('#new-invitation button[type=submit]');
    await drafts.waitForSelector('[data-draft]');
    const link = await drafts.locator('#draft-link').innerText();
    assert.match(link, new RegExp(`^${sys.baseURL}/invitations/accept\\?token=[A-Za-z0-9_-]{22,}$`));
    // The text is editable; the link is not, and always ends up in what is sent.
    assert.equal(await drafts.locator('#draft-link').evaluate((e) => e.isContentEditable), false);
    await drafts.fill('#draft-body', 'Hello Contoso, please accept: [invitation link]');
    await drafts.click('#draft-copy');
    await drafts.waitForSelector('#copy-state:has-text("Copied")');
    const copied = await drafts.evaluate(() => navigator.clipboard.readText());
    assert.equal(copied, `Hello Contoso, please accept: ${link}`);
    const mailto = await drafts.locator('#draft-mailto').getAttribute('href');
    assert.ok(mailto.startsWith('mailto:?subject='));
    assert.ok(decodeURIComponent(mailto).includes(link));
    await drafts.click('#draft-done');
    await drafts.waitForURL(/\/invitations$/);
    await drafts.waitForSelector(`#invitation-list tr[data-state="Pending"]`);

    // The pending invitation appeared on the open Customers page by itself.
    await customersPage.waitForSelector('#invitations-body tr', LIVE);

    // The customer's global admin opens the link, signs in, sees what accepting grants.
    const landing = await customerCtx.newPage();
    await landing.goto(link);
    await landing.click('#signin');
    await signIn(landing, customer, 'customer_admin', 'Contoso', customerDomain);
    await landing.waitForSelector('#invitation-preview');
    assert.equal(await landing.locator('#partner-name').innerText(), 'Fabrikam');
    assert.match(await landing.locator('#grants-admin').innerText(), /Admin permission: yes/);
    await landing.screenshot({ path: path.join(sys.artifacts, 'accept-landing.png'), fullPage: true });
    await landing.fill('input[name=company]', 'Contoso');
    await landing.fill('input[name=domain]', customerDomain);
    await landing.click('#accept-button');
    await landing.waitForSelector('#accepted');

    // The partner's page shows the customer, live.
    await customersPage.waitForSelector(`#c-${customer}`, LIVE);
    assert.equal(await adminCell(customersPage, customer).innerText().then((t) => t.startsWith('Granted')), true);
    assert.equal(await customersPage.locator('#invitations-body tr').count(), 0);

    // The customer revokes admin; the row changes live and says support stays.
    await landing.goto('/partners');
    const row = landing.locator(`#p-${partner}`);
    await row.locator('input[name=reason]').fill('in-house IT');
    await row.locator('button.revoke').click();
    await landing.waitForSelector('.notice');
    await customersPage.waitForSelector(
      `#c-${customer} td.admin:has-text("Admin revoked — support responsibility retained")`, LIVE);
    await customersPage.waitForSelector(`#c-${customer} a.action:has-text("Open service request")`);
    await customersPage.screenshot({ path: path.join(sys.artifacts, 'customers-revoked.png'), fullPage: true });

    // Management is now refused with the service's reason; a service request still works.
    const record = await partnerCtx.newPage();
    await record.goto(`/customers/${customer}`);
    const provision = record.locator('#provision button[type=submit]');
    assert.equal(await provision.isDisabled(), true);
    assert.match(await provision.getAttribute('title'), /ADMIN_PERMISSION_REVOKED/);
    await record.fill('#service-request input[name=title]', 'Mailbox quota');
    await record.click('#service-request button[type=submit]');
    await record.waitForSelector('#service-request li:has-text("Mailbox quota")');

    // The partner asks for admin back: a new draft; the customer accepts it.
    await record.click('#request-restore');
    await record.waitForSelector('[data-draft]');
    const restoreLink = await record.locator('#draft-link').innerText();
    await landing.goto(restoreLink);
    await landing.waitForSelector('#invitation-preview');
    assert.match(await landing.locator('#invitation-preview').innerText(), /restore its admin permission/);
    await landing.fill('input[name=domain]', customerDomain);
    await landing.click('#accept-button');
    await landing.waitForSelector('#accepted');
    await customersPage.waitForSelector(`#c-${customer} td.admin:text-is("Granted")`, LIVE);
    await customersPage.screenshot({ path: path.join(sys.artifacts, 'customers-page.png'), fullPage: true });

    // All of it without a reload, and every change arrived once.
    assert.equal(await customersPage.evaluate(() => window.__notReloaded), 'yes');
    const received = await customersPage.evaluate(() => window.pcFeed.received);
    assert.ok(received.length >= 4, `changes received: ${received}`);
    assert.equal(new Set(received).size, received.length, `duplicates in ${received}`);
    for (let i = 1; i < received.length; i++) assert.ok(received[i] > received[i - 1], `out of order: ${received}`);
  });

  it('a decline with its reason shows on the Invitations list; used, canceled and garbage links show one generic page', async () => {
    const page = await partnerCtx.newPage();
    const other = `c2-${sys.run}`;
    const link = await createInvitation(page, { tenant: other });
    const cust = await customerCtx.browser().newContext({ baseURL: sys.baseURL });
    const landing = await cust.newPage();
    await landing.goto('/signin');
    await signIn(landing, other, 'customer_admin', 'Northwind');
    await landing.goto(link);
    await landing.fill('#decline input[name=reason]', 'We already have a partner');
    await landing.click('#decline-button');
    await landing.waitForSelector('#declined');

    await page.goto('/invitations?state=DECLINED');
    const declined = page.locator('#invitation-list tr[data-state="Declined"] .decline-reason');
    await declined.first().waitFor();
    assert.equal(await declined.first().innerText(), 'We already have a partner');

    const generic = async (url) => {
      const resp = await landing.goto(url);
      assert.equal(resp.status(), 404, url);
      return landing.locator('#invalid-link').innerText();
    };
    const used = await generic(link);
    const garbage = await generic('/invitations/accept?token=garbage-garbage-garbage');
    const empty = await generic('/invitations/accept');
    const canceledLink = await createInvitation(page, { tenant: `c3-${sys.run}` });
    await page.goto('/invitations?state=PENDING');
    await page.locator('#invitation-list tr[data-state="Pending"] button:has-text("Cancel")').first().click();
    await page.waitForSelector('.notice');
    const canceled = await generic(canceledLink);
    // An email-domain hint the signed-in tenant has not proven (no verified_domains claim
    // naming it) is just another unusable link, whatever domain gets typed.
    const hinted = await createInvitation(page, { domain: `victim-${sys.run}.example` });
    const unproven = await generic(hinted);
    assert.equal(used, garbage);
    assert.equal(garbage, empty);
    assert.equal(empty, canceled);
    assert.equal(canceled, unproven);
    // The token never reaches a log line.
    const token = new URL(link).searchParams.get('token');
    assert.equal(sys.log('portal').includes(token), false);
    await cust.close();
  });

  it('SSE resume: the portal restarts mid-stream; the page misses nothing and repeats nothing', async () => {
    await feedIsLive(customersPage);
    const before = await customersPage.evaluate(() => window.pcFeed.received.length);
    await sys.stopProcess('portal');
    try {
      await customersPage.waitForSelector('#feed-state[data-state="reconnecting"]', LIVE);
      // Changes while no portal is running.
      sys.pcctl(['revoke', `--as=${customer}`, `--partner=${partner}`, '--reason=audit']);
      sys.pcctl(['service-request', `--as=${partner}`, `--customer=${customer}`, '--title=while down',
        '--severity=LOW']);
    } finally {
      await sys.startProcess('portal');
    }
    // The browser reconnects with Last-Event-ID and the new portal resumes after it.
    await customersPage.waitForSelector(
      `#c-${customer} td.admin:has-text("Admin revoked — support responsibility retained")`, LIVE);
    await feedIsLive(customersPage);
    // And it is live again afterwards.
    const restore = sys.pcctl(['restore', `--as=${partner}`, `--customer=${customer}`]);
    sys.pcctl(['accept', restore.email_draft.link, `--as=${customer}`, '--company=Contoso',
      `--domain=${customerDomain}`]);
    await customersPage.waitForSelector(`#c-${customer} td.admin:text-is("Granted")`, LIVE);
    const received = await customersPage.evaluate(() => window.pcFeed.received);
    assert.ok(received.length > before, `no change after the restart: ${received}`);
    // A partner's feed numbers its changes 1, 2, 3, …: what the page got since it was rendered
    // must be exactly the next numbers — no gap, no repeat — across the portal restart.
    const asOf = await customersPage.evaluate(() => Number(document.getElementById('customers').dataset.asOf));
    const expected = Array.from({ length: received.length }, (_, i) => asOf + 1 + i);
    assert.deepEqual(received, expected);
    const head = sys.pcctl(['customers', 'page', `--as=${partner}`]);
    assert.equal(received[received.length - 1], Number(head.as_of_sequence));
    assert.equal(await customersPage.evaluate(() => window.__notReloaded), 'yes');
  });

  it('XSS probe: a hostile company name renders as text on the partner page', async () => {
    const hostile = '<script>alert(1)</script><img src=x onerror=alert(2)>';
    const victim = `c4-${sys.run}`;
    const page = await partnerCtx.newPage();
    let dialogs = 0;
    page.on('dialog', async (d) => { dialogs++; await d.dismiss(); });
    await page.goto('/customers');
    await feedIsLive(page);
    const link = await createInvitation(await partnerCtx.newPage(), { tenant: victim });
    const cust = await customerCtx.browser().newContext({ baseURL: sys.baseURL });
    const landing = await cust.newPage();
    await landing.goto('/signin');
    await signIn(landing, victim, 'customer_admin', 'Mallory');
    await landing.goto(link);
    await landing.fill('input[name=company]', hostile);
    await landing.fill('input[name=domain]', `${victim}.example`);
    await landing.click('#accept-button');
    await landing.waitForSelector('#accepted');
    // Live row (rendered by the SSE path) and a fresh page (server-rendered) both show text.
    await page.waitForSelector(`#c-${victim}`, LIVE);
    assert.equal(await page.locator(`#c-${victim} td a`).first().innerText(), hostile);
    await page.reload();
    assert.equal(await page.locator(`#c-${victim} td a`).first().innerText(), hostile);
    assert.equal(await page.locator(`#c-${victim} img`).count(), 0);
    assert.equal(dialogs, 0);
    await cust.close();
  });

  it('CSRF probe: a state-changing post without the form token is refused and changes nothing', async () => {
    const page = await partnerCtx.newPage();
    const resp = await page.request.post(`/customers/${customer}/provision`, {
      form: { offer_id: 'office-e3', display_name: 'Forged', licenses: '5' },
      maxRedirects: 0,
    });
    assert.equal(resp.status(), 403);
    const forgedRevoke = await page.request.post(`/customers/${customer}/remove`, {
      form: { reason: 'forged', csrf: 'a'.repeat(64) }, maxRedirects: 0,
    });
    assert.equal(forgedRevoke.status(), 403);
    await page.goto(`/customers/${customer}`);
    assert.equal(await page.locator('td:has-text("Forged")').count(), 0);
    assert.match(await page.locator('#admin-access').innerText(), /Granted/);
    // The same form with its token works: the refusal was the token, not the request.
    await page.fill('#provision input[name=offer_id]', 'office-e3');
    await page.fill('#provision input[name=display_name]', 'Office E3');
    await page.fill('#provision input[name=licenses]', '5');
    await page.click('#provision button[type=submit]');
    await page.waitForSelector('.notice');
    assert.equal(await page.locator('td:has-text("Office E3")').count(), 1);
  });

  it('removal: refused while a service is active, then the customer leaves the Customers page live', async () => {
    const victim = `c4-${sys.run}`;  // the XSS probe's customer: admin granted, no services
    await feedIsLive(customersPage);
    await customersPage.waitForSelector(`#c-${victim}`, LIVE);
    const page = await partnerCtx.newPage();
    await page.goto(`/customers/${victim}`);
    await page.fill('#provision input[name=offer_id]', 'office-e1');
    await page.fill('#provision input[name=display_name]', 'Office E1');
    await page.click('#provision button[type=submit]');
    await page.waitForSelector('.notice');
    const remove = page.locator('button:has-text("Remove relationship")');
    assert.equal(await remove.isDisabled(), true);
    assert.match(await remove.getAttribute('title'), /ACTIVE_SERVICES_EXIST/);
    await page.click('button:has-text("Cancel service")');
    await page.waitForSelector('.notice:has-text("Service canceled.")');
    assert.equal(await remove.isDisabled(), false);
    await page.fill('input[name=reason][required]', 'contract ended');
    await remove.click();
    await page.waitForURL(/\/customers$/);
    await customersPage.waitForSelector(`#c-${victim}`, { state: 'detached', ...LIVE });
    assert.equal(await customersPage.evaluate(() => window.__notReloaded), 'yes');
  });

  it('a backend that is down: the affected parts say so, the rest keeps working, and it recovers live', async () => {
    await feedIsLive(customersPage);
    await sys.stopProcess('notification');
    try {
      await customersPage.waitForSelector('#feed-state[data-state="backend-down"]', LIVE);
      const fresh = await partnerCtx.newPage();
      const resp = await fresh.goto('/customers');
      assert.equal(resp.status(), 503);
      assert.match(await fresh.locator('.error').innerText(), /notification service is not reachable right now/);
      assert.equal(await fresh.locator('nav a[href="/invitations"]').count(), 1);
      // Pages served by the other services are unaffected.
      const invitations = await fresh.goto('/invitations');
      assert.equal(invitations.status(), 200);
      assert.ok(await fresh.locator('#invitation-list tr').count() > 1);
      const record = await fresh.goto(`/customers/${customer}`);
      assert.equal(record.status(), 200);
    } finally {
      await sys.startProcess('notification');
    }
    await feedIsLive(customersPage);
    sys.pcctl(['revoke', `--as=${customer}`, `--partner=${partner}`, '--reason=back online']);
    await customersPage.waitForSelector(
      `#c-${customer} td.admin:has-text("Admin revoked — support responsibility retained")`, LIVE);
    // Through the outage too: every change since the page was rendered, once, in order.
    const received = await customersPage.evaluate(() => window.pcFeed.received);
    const asOf = await customersPage.evaluate(() => Number(document.getElementById('customers').dataset.asOf));
    assert.deepEqual(received, Array.from({ length: received.length }, (_, i) => asOf + 1 + i));
    assert.equal(await customersPage.evaluate(() => window.__notReloaded), 'yes');
  });
});
