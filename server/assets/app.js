// The Action center console: sign-in, hash routes, tabs, the flyout over
// the current tab, and live updates from the server's event stream.

import { api, request, setCsrfToken, setUnauthenticatedHandler } from './api.js';
import { h, replace } from './dom.js';
import { showError } from './errors.js';
import { HISTORY_STATUSES, formatFullTime, plural } from './format.js';
import { setSession, session } from './session.js';
import { showSignIn } from './signin.js';
import { createActionList } from './action-list.js';
import { createFlyout } from './flyout.js';
import { createUndoDialog } from './undo.js';
import { createInvestigationView } from './investigation.js';
import { createOverview } from './overview.js';
import { createAuditView } from './audit.js';
import { createPolicyView } from './policy.js';

const $ = (id) => document.getElementById(id);
const main = $('main');
const tabs = $('tabs');
const alertArea = $('alert');
const announcer = $('announce');
const liveStatus = $('live-status');

let config = { oidc: false };
let views = new Map(); // route key -> view, kept while signed in so filters and selection survive tab switches
let current = null; // {key, view}
let events = null;
let liveQueue = [];
let liveTimer = null;
let liveFirst = 0;
let pendingOpener = null;

const app = {
  openAction(id, row) {
    pendingOpener = row || document.activeElement;
    const target = `#/actions/${encodeURIComponent(id)}`;
    if (location.hash === target) flyout.open(id, pendingOpener);
    else location.hash = target;
  },
  openActionId: () => flyout.openId,
  refreshCounts,
  announce,
};

/** Marks the row whose action the flyout shows. */
function markOpenRow() {
  const id = flyout.openId;
  for (const tr of main.querySelectorAll('tr.action-row')) tr.classList.toggle('is-open', tr.dataset.id === id);
}

const flyout = createFlyout($('flyout'), {
  close: closeFlyout,
  openUndo: (action, version, back) => undoDialog.open(action, version, back),
  changed: afterChange,
  announce,
});

const undoDialog = createUndoDialog($('undo-dialog'), { changed: afterChange, announce });

// --- announcements --------------------------------------------------------------

let announceTimer = null;
function announce(text) {
  // Emptied first so the same words twice are read twice.
  announcer.textContent = '';
  setTimeout(() => {
    announcer.textContent = text;
  }, 30);
  liveStatus.textContent = text;
  clearTimeout(announceTimer);
  announceTimer = setTimeout(() => {
    liveStatus.textContent = events ? 'Live' : '';
  }, 8000);
}

// --- routes ----------------------------------------------------------------------

/** `#/pending`, `#/history`, `#/investigations/<id>`, `#/overview`, `#/audit`, `#/policy`, `#/actions/<id>`. */
function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [first, ...rest] = raw.split('/');
  let arg = rest.join('/');
  try {
    arg = decodeURIComponent(arg);
  } catch (e) {
    // A malformed escape is taken as written.
  }
  switch (first) {
    case 'history':
    case 'overview':
    case 'audit':
    case 'policy':
      return { name: first };
    case 'investigations':
      return arg ? { name: 'investigation', arg } : { name: 'pending' };
    case 'actions':
      return arg ? { flyout: arg } : { name: 'pending' };
    default:
      return { name: 'pending' };
  }
}

function routeHash(r) {
  return r.name === 'investigation' ? `#/investigations/${encodeURIComponent(r.arg)}` : `#/${r.name}`;
}

function makeView(r) {
  switch (r.name) {
    case 'pending':
    case 'history':
      return createActionList(r.name, app);
    case 'investigation':
      return createInvestigationView(r.arg, app);
    case 'overview':
      return createOverview(app);
    case 'audit':
      return createAuditView(app);
    case 'policy':
      return createPolicyView(app);
    default:
      return createActionList('pending', app);
  }
}

function showBase(r) {
  const key = routeHash(r);
  if (current && current.key === key) return;
  let view = views.get(key);
  if (!view) {
    view = makeView(r);
    views.set(key, view);
  }
  current = { key, view };
  replace(main, view.el);
  document.title = `${view.title} · Action center`;
  markTabs(r);
  view.refresh();
  const focus = document.activeElement;
  if (!focus || focus === document.body || !focus.isConnected) {
    const heading = main.querySelector('h1');
    if (heading) {
      heading.setAttribute('tabindex', '-1');
      heading.focus({ preventScroll: true });
    }
  }
}

function markTabs(r) {
  const invTab = $('tab-investigation');
  invTab.hidden = r.name !== 'investigation';
  if (r.name === 'investigation') {
    invTab.href = routeHash(r);
    invTab.textContent = `Investigation ${r.arg}`;
  }
  for (const tab of tabs.querySelectorAll('[role="tab"]')) {
    const selected = tab.dataset.route === r.name;
    tab.setAttribute('aria-selected', String(selected));
    tab.tabIndex = selected ? 0 : -1;
  }
}

function route() {
  if (!session()) return;
  const r = parseHash();
  if (r.flyout) {
    if (!current) showBase({ name: 'pending' });
    flyout.open(r.flyout, pendingOpener);
    pendingOpener = null;
    markOpenRow();
    return;
  }
  if (flyout.openId) {
    const back = flyout.close();
    markOpenRow();
    showBase(r);
    restoreFocus(back);
    return;
  }
  showBase(r);
}

function closeFlyout() {
  if (!flyout.openId) return;
  if (current && location.hash.startsWith('#/actions/')) {
    location.hash = current.key; // route() closes the flyout and puts the focus back
  } else {
    const back = flyout.close();
    markOpenRow();
    restoreFocus(back);
  }
}

/** Back to the element that opened the flyout, or to its row drawn anew, or to the view. */
function restoreFocus(back) {
  if (back && back.isConnected && back !== document.body) {
    back.focus();
    return;
  }
  const id = back && back.dataset ? back.dataset.id : null;
  if (id && current && current.view.focusRow && current.view.focusRow(id)) return;
  main.focus();
}

// Tabs: arrow keys move between them (the ARIA tabs pattern).
tabs.addEventListener('keydown', (e) => {
  if (!['ArrowLeft', 'ArrowRight', 'Home', 'End'].includes(e.key)) return;
  const all = [...tabs.querySelectorAll('[role="tab"]')].filter((t) => !t.hidden);
  const at = all.indexOf(document.activeElement);
  let to = at;
  if (e.key === 'ArrowRight') to = (at + 1) % all.length;
  else if (e.key === 'ArrowLeft') to = (at - 1 + all.length) % all.length;
  else if (e.key === 'Home') to = 0;
  else to = all.length - 1;
  e.preventDefault();
  all[to].focus();
});

document.addEventListener('keydown', (e) => {
  if (e.key !== 'Escape' || undoDialog.isOpen) return;
  if (flyout.openId) {
    e.preventDefault();
    closeFlyout();
  }
});

window.addEventListener('hashchange', route);

// --- counts and refresh ----------------------------------------------------------

function setBadge(name, n) {
  const badge = $(`badge-${name}`);
  const tab = $(`tab-${name}`);
  const label = name === 'pending' ? 'Pending' : 'History';
  if (n == null) {
    badge.hidden = true;
    tab.removeAttribute('aria-label');
    return;
  }
  badge.hidden = false;
  badge.textContent = typeof n === 'number' ? n.toLocaleString() : String(n);
  tab.setAttribute('aria-label', `${label}, ${typeof n === 'number' ? plural(n, 'action') : n}`);
}

async function refreshCounts() {
  try {
    const got = await api.get('/api/v1/counts');
    const counts = (got && (got.statuses || got.counts)) || got || {};
    const num = (v) => (typeof v === 'number' ? v : 0);
    setBadge('pending', num(counts.pending));
    setBadge('history', HISTORY_STATUSES.reduce((n, s) => n + num(counts[s]), 0));
  } catch (err) {
    setBadge('pending', null);
    setBadge('history', null);
  }
}

/** After the person changed something: the view, the badges and the open flyout. */
function afterChange() {
  refreshAll(null);
}

/** The badges and the view again; the flyout too when its action is among `changed` (null: always). */
function refreshAll(changed) {
  refreshCounts();
  if (current) current.view.refresh();
  if (flyout.openId && (changed === null || changed.has(flyout.openId))) flyout.refresh();
}

// Wait times move on while the page stays open.
setInterval(() => {
  if (current && current.view.redraw && document.visibilityState === 'visible') current.view.redraw();
}, 60000);

// --- live updates ----------------------------------------------------------------

function startLive() {
  stopLive();
  if (typeof EventSource !== 'function') return;
  const source = new EventSource('/api/v1/events/stream');
  events = source;
  source.addEventListener('open', () => {
    liveStatus.textContent = 'Live';
    liveStatus.classList.remove('offline');
  });
  source.addEventListener('error', () => {
    liveStatus.textContent = 'Live updates paused: reconnecting…';
    liveStatus.classList.add('offline');
    // The browser retries a dropped stream on its own, but gives up on an
    // error answer (a 401 once the session ended, a 503): ask the session,
    // which signs out when it ended, else start again shortly.
    if (source.readyState === EventSource.CLOSED) reviveLive(source);
  });
  source.addEventListener('audit', (e) => {
    let event = null;
    try {
      event = JSON.parse(e.data);
    } catch (err) {
      event = null;
    }
    liveQueue.push(event);
    // Debounced: a burst (a bulk decision) is one refresh, at most 2 s late.
    if (!liveFirst) liveFirst = Date.now();
    clearTimeout(liveTimer);
    const wait = Math.max(0, Math.min(300, 2000 - (Date.now() - liveFirst)));
    liveTimer = setTimeout(flushLive, wait);
  });
}

/** Starts the stream again once the server answers; a 401 signs out instead. */
function reviveLive(source) {
  setTimeout(async () => {
    if (events !== source) return;
    try {
      await api.get('/api/v1/session');
      if (events === source) startLive();
    } catch (err) {
      if (err.kind !== 'unauthenticated') reviveLive(source);
    }
  }, 5000);
}

function flushLive() {
  const batch = liveQueue;
  liveQueue = [];
  liveFirst = 0;
  const me = session() && session().principal;
  const proposed = batch.filter((e) => e && e.event === 'propose').length;
  const byOthers = batch.filter((e) => e && e.event !== 'propose' && e.actor !== me && e.action_id).length;
  const parts = [];
  if (proposed) parts.push(plural(proposed, 'new action'));
  if (byOthers) parts.push(`${plural(byOthers, 'change')} by others`);
  if (parts.length) announce(parts.join(', '));
  refreshAll(new Set(batch.filter((e) => e && e.action_id).map((e) => e.action_id)));
}

function stopLive() {
  if (events) events.close();
  events = null;
  liveQueue = [];
  clearTimeout(liveTimer);
  liveStatus.textContent = '';
}

// --- session ----------------------------------------------------------------------

function signedIn(s) {
  setSession(s);
  setCsrfToken(s.csrf_token);
  views = new Map();
  current = null;
  alertArea.replaceChildren();
  $('whoami').hidden = false;
  const roles = (s.roles || []).join(', ');
  replace($('whoami-name'), h('span', { class: 'who' }, s.principal),
    roles ? h('span', { class: 'roles' }, ` · ${roles}`) : null);
  if (s.expires_at) $('whoami-name').title = `Signed in until ${formatFullTime(s.expires_at)}`;
  tabs.hidden = false;
  startLive();
  refreshCounts();
  route();
}

function signedOut(message) {
  setSession(null);
  setCsrfToken(null);
  stopLive();
  views = new Map();
  current = null;
  if (flyout.openId) flyout.close();
  if (undoDialog.isOpen) $('undo-dialog').close();
  $('whoami').hidden = true;
  tabs.hidden = true;
  document.title = 'Sign in · Action center';
  showSignIn(main, { oidc: config.oidc, message, onSignedIn: signedIn });
}

setUnauthenticatedHandler(() => {
  if (session()) signedOut('Your session has ended; sign in again.');
});

// The skip link moves the focus; following its href would change the route.
document.querySelector('.skip-link').addEventListener('click', (e) => {
  e.preventDefault();
  main.focus();
});

$('sign-out').addEventListener('click', async () => {
  try {
    await api.del('/api/v1/session');
    signedOut('You are signed out.');
  } catch (err) {
    if (err.kind === 'unauthenticated') signedOut('You are signed out.');
    else showError(alertArea, err);
  }
});

async function start() {
  try {
    const got = await api.get('/api/v1/config', { quiet401: true });
    if (got && typeof got === 'object') config = { ...config, ...got };
  } catch (err) {
    // An older server without /api/v1/config: no single sign-on link unless the session says so.
  }
  try {
    const got = await request('GET', '/api/v1/session', { quiet401: true });
    signedIn(got.data);
  } catch (err) {
    if (err.kind === 'unauthenticated') {
      const body = err.body || {};
      const detail = body.error || body;
      if (body.oidc === true || detail.oidc === true) config.oidc = true;
      signedOut();
    } else {
      // A session the server refuses for another reason (its principal
      // left the policy): say why, and let the person end it.
      const endSession = async () => {
        try {
          await api.del('/api/v1/session', { quiet401: true });
          signedOut('You are signed out.');
        } catch (e) {
          if (e.kind === 'unauthenticated') signedOut('You are signed out.');
          else showError(alertArea, e);
        }
      };
      replace(main, h('div', { class: 'signin' }, h('div', null, h('h1', null, 'Action center'),
        h('p', null, h('button', { type: 'button', class: 'button', id: 'end-session', onclick: endSession },
          'Sign out')))));
      showError(alertArea, err);
    }
  }
}

start();
