// How the engine's words and values read in the console.

import { h } from './dom.js';

/** Every kind core knows, in the order the filters list them (docs/json.md). */
export const KINDS = [
  'isolate_device', 'release_device', 'restrict_code_execution', 'remove_code_restriction',
  'run_antivirus_scan', 'quarantine_file', 'restore_file', 'remove_registry_key', 'restore_registry_key',
  'stop_service', 'start_service', 'disable_driver', 'enable_driver', 'remove_scheduled_task',
  'restore_scheduled_task', 'soft_delete_email', 'restore_email', 'hard_delete_email', 'block_url',
  'unblock_url', 'disable_user', 'enable_user',
];

/** Each kind's inverse, for the undo dialog's wording and whether Undo is offered (the server decides). */
const INVERSE_PAIRS = [
  ['isolate_device', 'release_device'], ['restrict_code_execution', 'remove_code_restriction'],
  ['quarantine_file', 'restore_file'], ['remove_registry_key', 'restore_registry_key'],
  ['stop_service', 'start_service'], ['disable_driver', 'enable_driver'],
  ['remove_scheduled_task', 'restore_scheduled_task'], ['soft_delete_email', 'restore_email'],
  ['block_url', 'unblock_url'], ['disable_user', 'enable_user'],
];
const INVERSE = new Map(INVERSE_PAIRS.flatMap(([a, b]) => [[a, b], [b, a]]));

export function inverseKind(kind) {
  return INVERSE.get(kind) || null;
}

export const CATEGORIES = ['device', 'file', 'email', 'identity', 'network'];

export const SOURCE_TYPES = [
  ['automated_investigation', 'Automated investigation'],
  ['antivirus', 'Antivirus'],
  ['manual_response', 'Manual response'],
  ['playbook', 'Playbook'],
  ['custom', 'Custom'],
];

export const HISTORY_STATUSES = ['completed', 'failed', 'rejected', 'expired', 'cancelled', 'undone', 'undo_failed'];
/** Decided but not yet finished: not in the History tab, but a History filter may show them. */
export const IN_FLIGHT_STATUSES = ['approved', 'running', 'undoing', 'undo_running'];

function sentence(word) {
  const text = String(word).replace(/_/g, ' ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function kindLabel(kind) {
  if (typeof kind !== 'string') return '—';
  if (kind.startsWith('custom:')) return `${sentence(kind.slice(7))} (custom)`;
  return sentence(kind).replace(/\burl\b/i, 'URL');
}

export function statusLabel(status) {
  return status ? sentence(status) : '—';
}

/** A status as a coloured chip; the colour repeats the word, never replaces it. */
export function statusChip(status) {
  return h('span', { class: `status status-${status}` }, statusLabel(status));
}

export function categoryLabel(category) {
  return category ? sentence(category) : '—';
}

export function sourceTypeLabel(type) {
  const found = SOURCE_TYPES.find(([t]) => t === type);
  return found ? found[1] : sentence(type || 'unknown');
}

/** One line for a target, per entity type. */
export function entitySummary(entity) {
  if (!entity || typeof entity !== 'object') return '—';
  const on = (what) => (entity.device_id ? `${what} on ${entity.device_id}` : what);
  switch (entity.type) {
    case 'device':
      return entity.name ? `${entity.name} (${entity.device_id})` : String(entity.device_id);
    case 'file':
      return on(fileName(entity.path || entity.sha256 || ''));
    case 'registry_key':
      return on(entity.value_name ? `${entity.key} [${entity.value_name}]` : String(entity.key));
    case 'service':
      return on(`Service ${entity.name}`);
    case 'driver':
      return on(`Driver ${entity.name}`);
    case 'scheduled_task':
      return on(`Task ${entity.name}`);
    case 'email_cluster':
      return entity.query ? `Email cluster ${entity.cluster_id} (${entity.query})` : `Email cluster ${entity.cluster_id}`;
    case 'mailbox':
      return `Mailbox ${entity.address}`;
    case 'user':
      return `User ${entity.user_id}`;
    case 'url':
      return String(entity.url);
    default:
      return JSON.stringify(entity);
  }
}

/** The entity's own fields, for the flyout. */
export function entityFields(entity) {
  if (!entity || typeof entity !== 'object') return [];
  const names = {
    device_id: 'Device', name: 'Name', sha256: 'SHA-256', path: 'Path', key: 'Key', value_name: 'Value name',
    cluster_id: 'Cluster', query: 'Query', address: 'Address', user_id: 'User', url: 'URL',
  };
  return Object.entries(entity)
    .filter(([k]) => k !== 'type')
    .map(([k, v]) => [names[k] || sentence(k), typeof v === 'string' ? v : JSON.stringify(v)]);
}

function fileName(path) {
  const parts = String(path).split(/[\\/]/);
  return parts[parts.length - 1] || String(path);
}

/** One line for a source; `full` adds the investigation, which the tables show in a column of its own. */
export function sourceSummary(source, full = false) {
  if (!source || typeof source !== 'object') return '—';
  switch (source.type) {
    case 'automated_investigation':
      return full ? `Automated investigation ${source.investigation_id}` : 'Automated investigation';
    case 'antivirus':
      return 'Antivirus';
    case 'manual_response':
      return `Manual response by ${source.person}`;
    case 'playbook':
      return `Playbook ${source.name}`;
    case 'custom':
      return `${source.name} (custom)`;
    default:
      return sourceTypeLabel(source.type);
  }
}

/**
 * Short ids for display: the first 8 characters, longer where two of the
 * given ids share them (UUID v7 ids made within a minute do), so no two
 * rows shown read the same. The flyout shows the full id.
 */
export function shortIds(ids) {
  const sorted = [...new Set(ids)].sort();
  const out = new Map();
  const common = (a, b) => {
    let i = 0;
    while (i < a.length && a[i] === b[i]) i += 1;
    return i;
  };
  sorted.forEach((id, i) => {
    let need = 8;
    if (i > 0) need = Math.max(need, common(id, sorted[i - 1]) + 1);
    if (i + 1 < sorted.length) need = Math.max(need, common(id, sorted[i + 1]) + 1);
    let end = Math.min(need, id.length);
    if (id[end - 1] === '-') end += 1;
    out.set(id, id.slice(0, end));
  });
  return out;
}

export function shortId(id) {
  return String(id || '').slice(0, 8);
}

const timeFormat = new Intl.DateTimeFormat(undefined, {
  month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
});
const yearTimeFormat = new Intl.DateTimeFormat(undefined, {
  year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
});
const fullTimeFormat = new Intl.DateTimeFormat(undefined, {
  year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit',
  hourCycle: 'h23', timeZoneName: 'short',
});

const preciseFormat = new Intl.DateTimeFormat(undefined, {
  month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
});

/** To the second, for the audit trail: "Nov 24, 15:15:40" (the tooltip has the year and zone). */
export function formatPreciseTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : preciseFormat.format(d);
}

/** "Dec 1, 08:03" this year, "Dec 1, 2025, 08:03" before. */
export function formatTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return (d.getFullYear() === new Date().getFullYear() ? timeFormat : yearTimeFormat).format(d);
}

export function formatFullTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : fullTimeFormat.format(d);
}

/** "3 d 4 h", "2 h 5 min", "12 min", "< 1 min". */
export function formatDuration(seconds) {
  if (seconds == null || !Number.isFinite(seconds)) return '—';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return '< 1 min';
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} min`;
  const hours = Math.floor(min / 60);
  if (hours < 24) return min % 60 ? `${hours} h ${min % 60} min` : `${hours} h`;
  const days = Math.floor(hours / 24);
  return hours % 24 ? `${days} d ${hours % 24} h` : `${days} d`;
}

function seconds(fromIso, toIso) {
  const a = Date.parse(fromIso);
  const b = toIso == null ? Date.now() : Date.parse(toIso);
  return Number.isNaN(a) || Number.isNaN(b) ? null : (b - a) / 1000;
}

/** Pending: how long it has waited so far. Otherwise: created to first decision. */
export function waitSeconds(action) {
  if (action.status === 'pending') return seconds(action.created_at, null);
  const first = (action.decisions || [])[0];
  if (first) return seconds(action.created_at, first.at);
  if (action.cancellation) return seconds(action.created_at, action.cancellation.at);
  return null;
}

export function verdictOf(decision) {
  return decision.verdict || decision.decision || '';
}

/** Who decided, each once, in order: core's `decided_by` (decisions, then a cancellation). */
export function decidedBy(action) {
  const people = [];
  const add = (who) => {
    if (who && !people.includes(who)) people.push(who);
  };
  for (const d of action.decisions || []) add(d.by);
  if (action.cancellation) add(action.cancellation.by);
  return people;
}

/** Every comment people left on the action, oldest first. */
export function comments(action) {
  const out = [];
  for (const d of action.decisions || []) if (d.comment) out.push(d.comment);
  if (action.cancellation && action.cancellation.comment) out.push(action.cancellation.comment);
  if (action.undo && action.undo.comment) out.push(action.undo.comment);
  return out;
}

export function plural(n, one, many = `${one}s`) {
  return `${n} ${n === 1 ? one : many}`;
}

export function formatNumber(n) {
  return typeof n === 'number' ? n.toLocaleString() : String(n ?? '—');
}
