// Who is signed in and what the stored policy lets them do. The console
// only hides what a person cannot use; the server checks every call.

import { CATEGORIES } from './format.js';

let current = null;

export function setSession(session) {
  current = session;
}

export function session() {
  return current;
}

export function principal() {
  return current ? current.principal : null;
}

function granted(op) {
  const perms = (current && current.permissions) || {};
  const list = perms[op];
  return Array.isArray(list) ? list : [];
}

/** Whether the session may `op` ("approve", "undo"...) on `category`; Administer grants every operation. */
export function can(op, category) {
  const has = (list) => list.includes('*') || (category != null && list.includes(category));
  return has(granted(op)) || has(granted('administer'));
}

/** Administer on every category: what changing the policy needs. */
export function administersAll() {
  const list = granted('administer');
  return list.includes('*') || CATEGORIES.every((c) => list.includes(c));
}
