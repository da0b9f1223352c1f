/**
 * The inspector's page: plain HTML, CSS and JavaScript in one document, shipped inside the
 * package (no CDN, no build step of its own). Memory text is only ever put into the page as text
 * nodes, never as HTML, so a stored memory cannot run script in the inspector.
 *
 * @module
 */

/** What the page is rendered with. */
export interface PageOptions {
  /** The Content-Security-Policy nonce of this response, for the inline style and script. */
  nonce: string;
  /** Show the edit and delete buttons. */
  allowEdit: boolean;
}

/** The whole page. */
export function inspectPage({ nonce, allowEdit }: PageOptions): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>with-memory inspect</title>
<style nonce="${nonce}">${style}</style>
</head>
<body data-allow-edit="${allowEdit}">
<header>
  <h1>with-memory inspect</h1>
  <span id="store"></span>
  <span id="mode" class="badge"></span>
</header>
<div id="layout">
  <nav id="scopes" aria-label="Users and scopes"><p class="muted">Loading…</p></nav>
  <main>
    <h2 id="scope-title">Pick a user or scope on the left.</h2>
    <form id="search" hidden>
      <input id="query" type="search" placeholder="Search this scope's memories" aria-label="Search" autocomplete="off">
      <button type="submit">Search</button>
      <button type="button" id="show-all">Show all</button>
    </form>
    <p id="status" role="status"></p>
    <table id="memories" hidden><thead></thead><tbody></tbody></table>
    <p><button type="button" id="more" hidden>Show more</button></p>
    <section id="history" hidden>
      <h3 id="history-title"></h3>
      <table><thead><tr><th>Date (UTC)</th><th>Event</th><th>By</th><th>Reason</th><th>Text</th></tr></thead><tbody></tbody></table>
    </section>
  </main>
</div>
<script nonce="${nonce}">${script}</script>
</body>
</html>
`;
}

const style = `
:root { color-scheme: light; --line: #d8dee4; --muted: #59636e; --accent: #0b5cad; --bg: #f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328; background: #fff; }
header { display: flex; align-items: baseline; gap: 12px; padding: 10px 20px; border-bottom: 1px solid var(--line); background: var(--bg); }
h1 { font-size: 16px; margin: 0; }
#store { color: var(--muted); }
.badge { font-size: 12px; padding: 1px 8px; border-radius: 10px; border: 1px solid var(--line); background: #fff; }
.badge.edit { border-color: #d1242f; color: #d1242f; }
#layout { display: grid; grid-template-columns: 260px 1fr; min-height: calc(100vh - 45px); }
nav { border-right: 1px solid var(--line); padding: 12px; background: var(--bg); overflow-wrap: anywhere; }
nav h4 { margin: 12px 0 4px; font-size: 12px; text-transform: uppercase; color: var(--muted); }
nav ul { list-style: none; margin: 0; padding: 0; }
nav ul ul { padding-left: 14px; }
nav button { all: unset; cursor: pointer; display: flex; justify-content: space-between; gap: 8px; width: 100%; padding: 3px 6px; border-radius: 4px; }
nav button:hover, nav button:focus-visible { background: #e7ecf0; }
nav button[aria-current="true"] { background: var(--accent); color: #fff; }
nav .count { color: inherit; opacity: .7; font-variant-numeric: tabular-nums; }
main { padding: 16px 20px; min-width: 0; }
h2 { font-size: 18px; margin: 0 0 12px; }
h3 { font-size: 15px; margin: 20px 0 8px; }
form { display: flex; gap: 8px; margin-bottom: 8px; }
input[type=search] { flex: 1; max-width: 480px; padding: 6px 8px; border: 1px solid var(--line); border-radius: 6px; font: inherit; }
button { font: inherit; padding: 5px 12px; border: 1px solid var(--line); border-radius: 6px; background: #fff; cursor: pointer; }
button:hover { background: var(--bg); }
button.danger { color: #d1242f; }
#status { color: var(--muted); min-height: 1.45em; margin: 4px 0 8px; }
#status.error { color: #d1242f; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: 6px 8px; border-bottom: 1px solid var(--line); }
th { font-size: 12px; color: var(--muted); font-weight: 600; white-space: nowrap; }
td.text { width: 100%; white-space: pre-wrap; overflow-wrap: anywhere; }
td.type { max-width: 14em; }
.origin { font-size: 12px; color: var(--muted); overflow-wrap: anywhere; }
.nowrap { white-space: nowrap; }
td.nowrap, td.actions { white-space: nowrap; }
td.actions button { padding: 2px 8px; font-size: 12px; }
.score { font-variant-numeric: tabular-nums; }
.bar { height: 4px; background: #e7ecf0; border-radius: 2px; margin-top: 3px; width: 60px; }
.bar > span { display: block; height: 100%; background: var(--accent); border-radius: 2px; }
.parts { color: var(--muted); font-size: 12px; white-space: nowrap; }
.muted { color: var(--muted); }
textarea { width: 100%; min-height: 60px; font: inherit; }
`;

// Runs in the browser. Plain ES2020, no template literals (this file is one).
const script = `
'use strict';
const token = new URLSearchParams(location.search).get('token');
const allowEdit = document.body.dataset.allowEdit === 'true';
const scopeParameters = { userId: 'user', agentId: 'agent', runId: 'run', appId: 'app' };
const scopeWords = { userId: 'user', agentId: 'agent', runId: 'run', appId: 'app' };
const pageSize = 100;
const maxListLimit = 1000;
let current = null;
let lastQuery = '';
let listLimit = pageSize;

function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (name === 'class') node.className = value;
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

async function api(path, parameters, body) {
  const url = new URL(path, location.origin);
  for (const [name, value] of Object.entries(parameters || {})) url.searchParams.set(name, value);
  const headers = { 'x-with-memory-token': token };
  const init = body === undefined ? { headers } : { method: 'POST', headers: Object.assign(headers, { 'content-type': 'application/json' }), body: JSON.stringify(body) };
  const response = await fetch(url, init);
  const data = await response.json();
  if (!response.ok) throw new Error(data.error || response.statusText);
  return data;
}

function describeScope(scope) {
  return Object.keys(scopeWords).filter((field) => scope[field] !== undefined).map((field) => scopeWords[field] + ' ' + scope[field]).join(', ');
}

function scopeQuery(scope) {
  const query = {};
  for (const field of Object.keys(scopeParameters)) if (scope[field] !== undefined) query[scopeParameters[field]] = scope[field];
  return query;
}

function status(message, isError) {
  const node = document.getElementById('status');
  node.textContent = message;
  node.className = isError ? 'error' : '';
}

function formatDate(iso) {
  return iso.slice(0, 16).replace('T', ' ');
}

async function loadScopes() {
  const nav = document.getElementById('scopes');
  let scopes;
  try {
    scopes = await api('/api/scopes');
  } catch (error) {
    nav.replaceChildren(el('p', { class: 'muted' }, error.message));
    return;
  }
  const users = new Map();
  const others = [];
  for (const entry of scopes) {
    if (entry.scope.userId === undefined) { others.push(entry); continue; }
    const user = users.get(entry.scope.userId) || { total: 0, narrower: [] };
    user.total += entry.memories;
    const keys = Object.keys(entry.scope);
    if (keys.length > 1) user.narrower.push(entry);
    users.set(entry.scope.userId, user);
  }
  const item = (scope, label, count, children) => {
    const button = el('button', { type: 'button', 'data-scope': JSON.stringify(scope), onclick: () => select(scope) }, el('span', {}, label), el('span', { class: 'count' }, String(count)));
    if (current && JSON.stringify(current) === JSON.stringify(scope)) button.setAttribute('aria-current', 'true');
    return el('li', {}, button, children);
  };
  const narrowerLabel = (scope) => describeScope(Object.assign({}, scope, { userId: undefined }));
  const list = el('ul', {});
  for (const [userId, user] of users) {
    const inner = user.narrower.length === 0 ? null : el('ul', {}, ...user.narrower.map((entry) => item(entry.scope, narrowerLabel(entry.scope), entry.memories)));
    list.append(item({ userId }, userId, user.total, inner));
  }
  const parts = [el('h4', {}, 'Users'), users.size === 0 ? el('p', { class: 'muted' }, 'No users.') : list];
  if (others.length > 0) parts.push(el('h4', {}, 'Other scopes'), el('ul', {}, ...others.map((entry) => item(entry.scope, describeScope(entry.scope), entry.memories))));
  nav.replaceChildren(...parts);
}

function select(scope) {
  current = scope;
  lastQuery = '';
  listLimit = pageSize;
  document.getElementById('query').value = '';
  document.getElementById('scope-title').textContent = 'Memories of ' + describeScope(scope);
  document.getElementById('search').hidden = false;
  document.getElementById('history').hidden = true;
  for (const button of document.querySelectorAll('nav button')) {
    if (button.dataset.scope === JSON.stringify(scope)) button.setAttribute('aria-current', 'true');
    else button.removeAttribute('aria-current');
  }
  return refresh();
}

async function refresh() {
  if (!current) return;
  try {
    if (lastQuery === '') {
      const memories = await api('/api/memories', Object.assign(scopeQuery(current), { limit: String(listLimit) }));
      const more = memories.length === listLimit;
      if (!more) status(memories.length === 1 ? '1 memory, newest first.' : memories.length + ' memories, newest first.');
      else if (listLimit < maxListLimit) status('The ' + listLimit + ' newest memories; there are more.');
      else status('The ' + listLimit + ' newest memories; search to find older ones.');
      render(memories, false);
      document.getElementById('more').hidden = !more || listLimit >= maxListLimit;
    } else {
      const hits = await api('/api/search', Object.assign(scopeQuery(current), { q: lastQuery }));
      status(hits.length === 1 ? '1 match, best first.' : hits.length + ' matches, best first.');
      render(hits, true);
      document.getElementById('more').hidden = true;
    }
  } catch (error) {
    status(error.message, true);
  }
}

// Under the text: the memory's scope (a user's scope lists its agents' memories too, so this
// tells a user's own memory from an agent's) and its metadata. Text nodes only, like every cell.
function originLine(memory) {
  const keys = Object.keys(memory.metadata || {});
  const metadata = keys.map((key) => key + ': ' + JSON.stringify(memory.metadata[key])).join(', ');
  return el('div', { class: 'origin' }, el('div', { class: 'scope' }, describeScope(memory.scope || {})), metadata === '' ? null : el('div', { class: 'metadata' }, metadata));
}

function scoreCell(hit) {
  const bar = el('div', { class: 'bar' }, el('span', {}));
  bar.firstChild.style.width = Math.round(Math.max(0, Math.min(1, hit.score)) * 100) + '%';
  return el('td', { class: 'nowrap' }, el('div', { class: 'score' }, hit.score.toFixed(2)), bar);
}

function partsCell(hit) {
  const parts = hit.scoreParts;
  if (!parts) return el('td', { class: 'parts' }, '–');
  const names = ['words', 'neighbours', 'vector', 'recency'].filter((name) => typeof parts[name] === 'number');
  return el('td', { class: 'parts' }, ...names.map((name) => el('div', {}, name + ' ' + parts[name].toFixed(2))));
}

function render(memories, scored) {
  const table = document.getElementById('memories');
  const headings = (scored ? ['Score', 'Parts'] : []).concat(['Type, scope, metadata', 'Updated (UTC)', 'Text', '']);
  table.tHead.replaceChildren(el('tr', {}, ...headings.map((heading) => el('th', {}, heading))));
  table.tBodies[0].replaceChildren(...memories.map((memory) => {
    const actions = el('td', { class: 'actions' }, el('button', { type: 'button', onclick: () => showHistory(memory) }, 'History'));
    const text = el('td', { class: 'text' }, memory.text);
    if (allowEdit) {
      actions.append(' ', el('button', { type: 'button', onclick: () => edit(memory, text) }, 'Edit'));
      actions.append(' ', el('button', { type: 'button', class: 'danger', onclick: () => remove(memory) }, 'Delete'));
    }
    return el('tr', { 'data-id': memory.id }, ...(scored ? [scoreCell(memory), partsCell(memory)] : []), el('td', { class: 'type' }, el('div', { class: 'nowrap' }, memory.type || '–'), originLine(memory)), el('td', { class: 'nowrap' }, formatDate(memory.updatedAt)), text, actions);
  }));
  table.hidden = memories.length === 0;
}

async function showHistory(memory) {
  const section = document.getElementById('history');
  try {
    const entries = await api('/api/history', { id: memory.id });
    document.getElementById('history-title').textContent = 'History of ' + memory.id;
    section.querySelector('tbody').replaceChildren(...entries.map((entry) => {
      const text = entry.event === 'UPDATE' ? (entry.oldText || '') + ' → ' + (entry.newText || '') : entry.event === 'ADD' ? entry.newText || '' : entry.oldText || '';
      return el('tr', {}, el('td', { class: 'nowrap' }, formatDate(entry.createdAt)), el('td', {}, entry.event), el('td', {}, entry.actor || '–'), el('td', { class: 'nowrap' }, entry.reason || '–'), el('td', { class: 'text' }, text));
    }));
    section.hidden = false;
    section.scrollIntoView({ block: 'nearest' });
  } catch (error) {
    status(error.message, true);
  }
}

function edit(memory, cell) {
  const area = el('textarea', { 'aria-label': 'New text' });
  area.value = memory.text;
  const save = async () => {
    if (area.value.trim() === '') { status('The text is empty; delete the memory instead.', true); return; }
    if (!confirm('Save the new text of this memory? The old text stays in its history.')) return;
    try {
      await api('/api/update', {}, { id: memory.id, text: area.value });
      await refresh();
      status('Saved.');
    } catch (error) {
      status(error.message, true);
    }
  };
  cell.replaceChildren(area, el('div', {}, el('button', { type: 'button', onclick: save }, 'Save'), ' ', el('button', { type: 'button', onclick: () => refresh() }, 'Cancel')));
  area.focus();
}

async function remove(memory) {
  const preview = memory.text.length > 80 ? memory.text.slice(0, 80) + '…' : memory.text;
  if (!confirm('Delete this memory? It cannot be undone. Its history keeps the text; with-memory forget ' + memory.id + ' --erase erases it completely.\\n\\n' + preview)) return;
  try {
    await api('/api/delete', {}, { id: memory.id });
    document.getElementById('history').hidden = true;
    await refresh();
    status('Deleted ' + memory.id + '.');
    await loadScopes();
  } catch (error) {
    status(error.message, true);
  }
}

document.getElementById('search').addEventListener('submit', (event) => {
  event.preventDefault();
  lastQuery = document.getElementById('query').value.trim();
  refresh();
});
document.getElementById('more').addEventListener('click', () => {
  listLimit = Math.min(maxListLimit, listLimit + pageSize);
  refresh();
});
document.getElementById('show-all').addEventListener('click', () => {
  lastQuery = '';
  listLimit = pageSize;
  document.getElementById('query').value = '';
  refresh();
});

api('/api/info').then((info) => {
  document.getElementById('store').textContent = 'store: ' + info.store;
  const mode = document.getElementById('mode');
  mode.textContent = info.allowEdit ? 'editing allowed' : 'read-only';
  if (info.allowEdit) mode.classList.add('edit');
}, (error) => status(error.message, true));
loadScopes();
`;
