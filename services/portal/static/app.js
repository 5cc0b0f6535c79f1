// Partner Center portal: the few behaviours a server-rendered page cannot do alone.
// Served from /static/app.js (the Content-Security-Policy allows no inline script).
'use strict';

// --- Customers page: live rows over Server-Sent Events ---------------------------------
// The table carries data-as-of (the sequence its rows reflect). The stream sends every
// later change once (id = sequence); after a drop the browser reconnects with
// Last-Event-ID and the portal resumes right after it. window.pcFeed records what arrived.
function startFeed(table) {
  const state = document.getElementById('feed-state');
  const feed = { received: [], lastSeq: Number(table.dataset.asOf), connected: false };
  window.pcFeed = feed;
  const filter = { q: table.dataset.q || '', admin: table.dataset.admin || '' };
  const show = (text, key) => { state.textContent = text; state.dataset.state = key; };

  const es = new EventSource(table.dataset.feed + '?after=' + encodeURIComponent(table.dataset.asOf));
  es.onopen = () => { feed.connected = true; show('live', 'live'); };
  es.onerror = () => {
    feed.connected = false;
    if (es.readyState === EventSource.CLOSED) show('disconnected — reload the page', 'closed');
    else show('reconnecting…', 'reconnecting');
  };
  es.addEventListener('status', (e) => {
    const s = JSON.parse(e.data);
    if (s.state === 'reset') { es.close(); window.location.reload(); return; }
    if (s.state === 'live') show('live', 'live');
    else show('notification service unavailable — showing the last known rows; retrying', 'backend-down');
  });
  es.addEventListener('change', (e) => {
    const c = JSON.parse(e.data);
    feed.received.push(c.seq);
    if (c.seq <= feed.lastSeq) return;  // already reflected by the page
    feed.lastSeq = c.seq;
    apply(c);
    table.dataset.lastSeq = String(c.seq);
  });

  function matches(c) {
    if (c.table !== 'customers') return true;
    if (filter.q && !c.name.startsWith(filter.q)) return false;
    if (filter.admin && c.admin !== filter.admin) return false;
    return true;
  }

  function apply(c) {
    const body = document.getElementById(c.table + '-body');
    if (!body) return;
    const existing = document.getElementById(c.key);
    if (c.op === 'remove' || !matches(c)) {
      if (existing) existing.remove();
    } else if (existing) {
      existing.outerHTML = c.html;
    } else if (c.table === 'customers' && table.dataset.order === 'name') {
      const next = Array.from(body.rows).find((r) => (r.dataset.name || '') > c.name);
      if (next) next.insertAdjacentHTML('beforebegin', c.html);
      else body.insertAdjacentHTML('beforeend', c.html);
    } else {
      body.insertAdjacentHTML('afterbegin', c.html);
    }
    const empty = document.getElementById('customers-empty');
    const rows = document.getElementById('customers-body');
    if (empty && rows) empty.hidden = rows.rows.length > 0;
  }
}

// --- Email draft: the text is editable, the link is not ---------------------------------
function startDraft(section) {
  const link = section.dataset.link;
  const marker = section.dataset.marker;
  const subject = document.getElementById('draft-subject');
  const body = document.getElementById('draft-body');
  const mailto = document.getElementById('draft-mailto');
  const copyState = document.getElementById('copy-state');
  // The link always goes in whole: where the marker is, or at the end if it was deleted.
  const compose = () => (body.value.includes(marker)
    ? body.value.split(marker).join(link) : body.value + '\n\n' + link);
  const update = () => {
    mailto.href = 'mailto:?subject=' + encodeURIComponent(subject.value) +
      '&body=' + encodeURIComponent(compose());
  };
  subject.addEventListener('input', update);
  body.addEventListener('input', update);
  update();
  document.getElementById('draft-copy').addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(compose());
      copyState.textContent = 'Copied.';
    } catch (err) {
      copyState.textContent = 'Copy failed; select the text and copy it yourself.';
    }
  });
}

document.addEventListener('DOMContentLoaded', () => {
  const table = document.querySelector('table[data-feed]');
  if (table) startFeed(table);
  const draft = document.querySelector('[data-draft]');
  if (draft) startDraft(draft);
});
