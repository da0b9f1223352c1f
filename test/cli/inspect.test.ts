import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startInspector, tokenHeader } from '../../src/cli/inspect/inspect-server.js';
import { localStore } from '../../src/stores/local/index.js';
import { launchChromium } from '../browser/chromium.js';
import { runCli, spawnCli } from './run-cli.js';

const folder = mkdtempSync(join(tmpdir(), 'with-memory-inspect-'));
// The screenshot is kept for people to look at (CI artifacts, reviews); it is not compared pixel by pixel.
const artifacts = join(process.cwd(), 'test-results');

// Two users, one with an agent scope; fixed ids and dates so that the page looks the same each run.
const seedMemories = [
  {
    id: '00000000-0000-7000-8000-000000000001',
    text: 'Prefers green tea in the afternoon, never coffee after 4 pm',
    type: 'preference',
    scope: { userId: 'alice' },
    createdAt: '2026-03-01T09:00:00.000Z',
  },
  {
    id: '00000000-0000-7000-8000-000000000002',
    text: 'Ordered a blue electric kettle for the tea corner',
    type: 'event',
    scope: { userId: 'alice', agentId: 'support' },
    createdAt: '2026-03-02T10:30:00.000Z',
  },
  {
    id: '00000000-0000-7000-8000-000000000003',
    text: 'Asked support how to descale the kettle',
    type: 'fact',
    scope: { userId: 'alice', agentId: 'support' },
    createdAt: '2026-03-03T11:15:00.000Z',
  },
  {
    id: '00000000-0000-7000-8000-000000000004',
    text: 'Lives in Lisbon and drinks espresso',
    type: 'profile',
    scope: { userId: 'bob' },
    createdAt: '2026-03-04T08:00:00.000Z',
  },
];

let browser: Awaited<ReturnType<typeof launchChromium>>;
let context: BrowserContext;
const running: ChildProcessWithoutNullStreams[] = [];

beforeAll(async () => {
  browser = await launchChromium();
  context = browser.context;
  mkdirSync(artifacts, { recursive: true });
});
afterAll(async () => {
  await browser?.close();
  rmSync(folder, { recursive: true, force: true });
});
afterEach(async () => {
  await Promise.all(running.splice(0).map(stop));
  for (const page of context.pages()) await page.close();
});

let databases = 0;
async function seededDatabase(): Promise<string> {
  databases += 1;
  const path = join(folder, `memory-${databases}.db`);
  const store = localStore({ path });
  try {
    await store.import(
      seedMemories.map((memory) => `${JSON.stringify({ ...memory, metadata: {}, updatedAt: memory.createdAt })}\n`),
    );
  } finally {
    await store.close();
  }
  return path;
}

/** Starts `with-memory inspect` and resolves with the address it printed. */
function startInspect(args: string[]): Promise<{ url: string; child: ChildProcessWithoutNullStreams }> {
  const child = spawnCli(['inspect', ...args], { cwd: folder });
  running.push(child);
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const url = /^(http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)$/m.exec(stdout)?.[1];
      if (url) resolve({ url, child });
    });
    child.on('exit', (code) => reject(new Error(`inspect ended (${code}) before listening: ${stderr}`)));
  });
}

function stop(child: ChildProcessWithoutNullStreams): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });
}

async function openPage(url: string): Promise<Page> {
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  await page.goto(url);
  await page.locator('nav button').first().waitFor();
  expect(errors).toEqual([]);
  return page;
}

async function searchFor(page: Page, user: string, query: string): Promise<void> {
  await page.locator('nav button', { hasText: user }).first().click();
  await page.getByLabel('Search').fill(query);
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await page.getByText(/\d+ match(es)?, best first\./).waitFor();
}

function row(page: Page, id: string) {
  return page.locator(`#memories tr[data-id="${id}"]`);
}

/** A GET with a Host header of our choosing (fetch will not send one). */
function getStatus(url: URL, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    request(url, { headers }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    })
      .on('error', reject)
      .end();
  });
}

describe('with-memory inspect', () => {
  it('browses two users, searches, shows a history and deletes a memory with --allow-edit', async () => {
    const db = await seededDatabase();
    const { url, child } = await startInspect(['--db', db, '--allow-edit']);
    const page = await openPage(url);

    await expect(page.locator('#mode').textContent()).resolves.toBe('editing allowed');
    const users = await page.locator('nav > ul > li > button > span:first-child').allTextContents();
    expect(users).toEqual(['alice', 'bob']);
    await expect(page.locator('nav button', { hasText: 'agent support' }).textContent()).resolves.toBe(
      'agent support2',
    );

    await page.locator('nav button', { hasText: 'bob' }).click();
    await page.getByText('1 memory, newest first.').waitFor();
    await expect(page.locator('#memories td.text').allTextContents()).resolves.toEqual([
      'Lives in Lisbon and drinks espresso',
    ]);

    await searchFor(page, 'alice', 'kettle');
    const kettle = seedMemories[1] as (typeof seedMemories)[number];
    const descale = seedMemories[2] as (typeof seedMemories)[number];
    await expect(page.locator('#memories td.text').allTextContents()).resolves.toEqual(
      expect.arrayContaining([kettle.text, descale.text]),
    );
    const score = Number(await row(page, kettle.id).locator('.score').textContent());
    expect(score).toBeGreaterThan(0);
    expect(score).toBeLessThanOrEqual(1);

    await row(page, kettle.id).getByRole('button', { name: 'History' }).click();
    await page.locator('#history:not([hidden])').waitFor();
    await expect(page.locator('#history-title').textContent()).resolves.toBe(`History of ${kettle.id}`);
    await expect(page.locator('#history tbody td').allTextContents()).resolves.toEqual(
      expect.arrayContaining(['ADD', 'import', kettle.text]),
    );

    // Dismissing the confirmation deletes nothing.
    const dialogs: string[] = [];
    page.once('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    await row(page, kettle.id).getByRole('button', { name: 'Delete' }).click();
    await expect.poll(() => dialogs.length).toBe(1);
    expect(dialogs[0]).toContain('Delete this memory?');
    await expect(row(page, kettle.id).count()).resolves.toBe(1);

    page.once('dialog', (dialog) => void dialog.accept());
    await row(page, kettle.id).getByRole('button', { name: 'Delete' }).click();
    await page.getByText(`Deleted ${kettle.id}.`).waitFor();
    await expect(row(page, kettle.id).count()).resolves.toBe(0);
    await expect(row(page, descale.id).count()).resolves.toBe(1);
    await expect(page.locator('nav button', { hasText: 'agent support' }).textContent()).resolves.toBe(
      'agent support1',
    );

    expect(await stop(child)).toBe(0);
    const store = localStore({ path: db });
    try {
      await expect(store.get(kettle.id)).resolves.toBeNull();
      const left = await store.list({ scope: { userId: 'alice' } });
      expect(left.map((memory) => memory.id).sort()).toEqual([seedMemories[0]?.id, descale.id].sort());
      const history = await store.history(kettle.id);
      expect(history.at(-1)).toMatchObject({ event: 'DELETE', reason: 'with-memory inspect', actor: 'cli' });
    } finally {
      await store.close();
    }
  });

  it('edits a memory after confirmation, keeping the old text in its history', async () => {
    const db = await seededDatabase();
    const { url } = await startInspect(['--db', db, '--allow-edit']);
    const tea = seedMemories[0] as (typeof seedMemories)[number];
    // What a cross-site form could send (no JSON) is refused even with edits allowed.
    const token = new URL(url).searchParams.get('token') ?? '';
    const formPost = await fetch(new URL('/api/delete', url), {
      method: 'POST',
      headers: { [tokenHeader]: token, 'content-type': 'text/plain' },
      body: JSON.stringify({ id: tea.id }),
    });
    expect(formPost.status).toBe(415);

    const page = await openPage(url);
    await page.locator('nav button', { hasText: 'alice' }).first().click();
    await row(page, tea.id).getByRole('button', { name: 'Edit' }).click();
    await page.getByLabel('New text').fill('Prefers oolong tea in the afternoon');
    const dialogs: string[] = [];
    page.once('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.accept();
    });
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Saved.').waitFor();
    expect(dialogs[0]).toContain('Save the new text');
    await expect(row(page, tea.id).locator('td.text').textContent()).resolves.toBe(
      'Prefers oolong tea in the afternoon',
    );
    await row(page, tea.id).getByRole('button', { name: 'History' }).click();
    await expect(page.locator('#history tbody tr').last().locator('td').nth(1).textContent()).resolves.toBe('UPDATE');
    await expect(page.locator('#history tbody tr').last().locator('td.text').textContent()).resolves.toBe(
      `${tea.text} → Prefers oolong tea in the afternoon`,
    );
  });

  it('refuses requests without the token or from another host, and changes nothing when read-only', async () => {
    const db = await seededDatabase();
    const { url } = await startInspect(['--db', db]);
    const address = new URL(url);
    const token = address.searchParams.get('token') ?? '';
    expect(token.length).toBeGreaterThanOrEqual(32);
    const origin = address.origin;

    expect((await fetch(origin)).status).toBe(403);
    expect((await fetch(`${origin}/?token=${token.slice(0, -1)}x`)).status).toBe(403);
    expect((await fetch(`${origin}/api/scopes`)).status).toBe(403);
    expect((await fetch(`${origin}/api/scopes?token=${token}`)).status).toBe(403); // the API wants the header
    expect((await fetch(`${origin}/api/scopes`, { headers: { [tokenHeader]: 'wrong' } })).status).toBe(403);
    const scopes = await fetch(`${origin}/api/scopes`, { headers: { [tokenHeader]: token } });
    expect(scopes.status).toBe(200);
    expect(await scopes.json()).toHaveLength(3);
    // DNS rebinding: the right token from a page served under another name is still refused.
    expect(await getStatus(address, { host: `evil.example:${address.port}` })).toBe(403);
    expect(await getStatus(address, { host: address.host })).toBe(200);

    const id = seedMemories[3]?.id;
    const refused = await fetch(`${origin}/api/delete`, {
      method: 'POST',
      headers: { [tokenHeader]: token, 'content-type': 'application/json' },
      body: JSON.stringify({ id }),
    });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: string }).error).toMatch(/read-only.*--allow-edit/);

    const page = await openPage(url);
    await expect(page.locator('#mode').textContent()).resolves.toBe('read-only');
    await page.locator('nav button', { hasText: 'bob' }).click();
    await page.getByText('1 memory, newest first.').waitFor();
    await expect(page.getByRole('button', { name: 'History' }).count()).resolves.toBe(1);
    await expect(page.getByRole('button', { name: 'Delete' }).count()).resolves.toBe(0);
    await expect(page.getByRole('button', { name: 'Edit' }).count()).resolves.toBe(0);

    const store = localStore({ path: db });
    try {
      await expect(store.get(id ?? '')).resolves.toMatchObject({ text: seedMemories[3]?.text });
    } finally {
      await store.close();
    }
  });

  it('renders the search page (screenshot kept in test-results/inspect-search.png)', async () => {
    const db = await seededDatabase();
    const { url } = await startInspect(['--db', db, '--allow-edit']);
    const page = await openPage(url);
    await searchFor(page, 'alice', 'tea kettle');
    const path = join(artifacts, 'inspect-search.png');
    const png = await page.screenshot({ path });

    // PNG of the viewport's size.
    expect(png.subarray(1, 4).toString('ascii')).toBe('PNG');
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([1100, 640]);
    // The layout holds: nothing wider than the window, the sidebar beside the results, all rows on screen.
    // (Browser code as strings: the type check has no DOM library.)
    expect(await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth')).toBe(0);
    await expect(page.locator('#memories tbody tr').count()).resolves.toBeGreaterThanOrEqual(2);
    const nav = await page.locator('nav').boundingBox();
    const table = await page.locator('#memories').boundingBox();
    expect(nav && table && table.x >= nav.x + nav.width && table.y + table.height < 640).toBe(true);
    // The picture itself has content: drawn back into a canvas (on a blank page: the inspector's
    // policy allows no images), it is neither blank nor one block of colour.
    const blank = await context.newPage();
    const inked = await blank.evaluate(`(async () => {
      const image = new Image();
      image.src = 'data:image/png;base64,${png.toString('base64')}';
      await image.decode();
      const canvas = document.createElement('canvas');
      canvas.width = image.width;
      canvas.height = image.height;
      const drawing = canvas.getContext('2d');
      drawing.drawImage(image, 0, 0);
      const { data } = drawing.getImageData(0, 0, image.width, image.height);
      let dark = 0;
      for (let index = 0; index < data.length; index += 4) {
        if (data[index] + data[index + 1] + data[index + 2] < 384) dark += 1;
      }
      return dark / (data.length / 4);
    })()`);
    expect(inked).toBeGreaterThan(0.005); // text is drawn
    expect(inked).toBeLessThan(0.2); // on a light page
  });

  it('says which port is taken, with exit code 2', async () => {
    const db = await seededDatabase();
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as AddressInfo;
    try {
      const run = await runCli(['inspect', '--db', db, '--port', String(port)], { cwd: folder });
      expect(run).toMatchObject({
        code: 2,
        stdout: '',
        stderr: `with-memory inspect: cannot listen on port ${port} (EADDRINUSE); pick another --port, or 0 for any free one\n`,
      });
    } finally {
      taken.close();
    }
  });

  it('shows a memory that holds markup as text, never running it', async () => {
    const store = localStore({ path: join(folder, 'markup.db') });
    const markup = '<img src=x onerror="window.ran=1"><script>window.ran=2</script><b>bold</b>';
    await store.add({ facts: [{ text: markup }] }, { scope: { userId: 'eve' } });
    const inspector = await startInspector({ store, port: 0, allowEdit: false });
    try {
      const page = await openPage(inspector.url);
      const dialogs: string[] = [];
      page.on('dialog', (dialog) => {
        dialogs.push(dialog.message());
        void dialog.dismiss();
      });
      await page.locator('nav button', { hasText: 'eve' }).click();
      await page.getByText('1 memory, newest first.').waitFor();
      await expect(page.locator('#memories td.text').textContent()).resolves.toBe(markup);
      await expect(page.locator('#memories img, #memories b, #memories script').count()).resolves.toBe(0);
      expect(await page.evaluate('window.ran')).toBeUndefined();
      expect(dialogs).toEqual([]);
    } finally {
      await inspector.close();
      await store.close();
    }
  });

  it("shows each memory's scope and metadata, as text: a user's own memory apart from an agent's", async () => {
    const store = localStore({ path: join(folder, 'scopes.db') });
    const markup = '<img src=x onerror="window.ran=1">';
    await store.add({ facts: [{ text: 'Lives in Oslo' }] }, { scope: { userId: 'eve' } });
    await store.add(
      { facts: [{ text: 'Plans the Oslo trip', metadata: { source: 'chat', [markup]: `${markup}</td>` } }] },
      { scope: { userId: 'eve', agentId: `planner${markup}` } },
    );
    const inspector = await startInspector({ store, port: 0, allowEdit: false });
    try {
      const page = await openPage(inspector.url);
      await page.locator('nav button', { hasText: /^eve/ }).first().click();
      await page.getByText('2 memories, newest first.').waitFor();
      const headings = await page.locator('#memories thead th').allTextContents();
      expect(headings[0]).toBe('Type, scope, metadata');
      const origin = (text: string) =>
        page.locator('#memories tr', { hasText: text }).locator('td.type .origin > div').allTextContents();
      await expect(origin('Lives in Oslo')).resolves.toEqual(['user eve']);
      await expect(origin('Plans the Oslo trip')).resolves.toEqual([
        `user eve, agent planner${markup}`,
        `source: "chat", ${markup}: ${JSON.stringify(`${markup}</td>`)}`,
      ]);
      await expect(page.locator('#memories img').count()).resolves.toBe(0);
      expect(await page.evaluate('window.ran')).toBeUndefined();
    } finally {
      await inspector.close();
      await store.close();
    }
  });

  it('lists a large scope a hundred at a time', async () => {
    const store = localStore({ path: join(folder, 'many.db') });
    await store.import(
      Array.from({ length: 130 }, (_, index) => {
        const at = new Date(Date.UTC(2026, 0, 1, 0, index)).toISOString();
        const line = {
          id: `m-${index}`,
          text: `Note ${index}`,
          scope: { userId: 'dave' },
          createdAt: at,
          updatedAt: at,
        };
        return `${JSON.stringify(line)}\n`;
      }),
    );
    const inspector = await startInspector({ store, port: 0, allowEdit: false });
    try {
      const page = await openPage(inspector.url);
      await page.locator('nav button', { hasText: 'dave' }).click();
      await page.getByText('The 100 newest memories; there are more.').waitFor();
      await expect(page.locator('#memories tbody tr').count()).resolves.toBe(100);
      await expect(page.locator('#memories td.text').first().textContent()).resolves.toBe('Note 129');
      await page.getByRole('button', { name: 'Show more' }).click();
      await page.getByText('130 memories, newest first.').waitFor();
      await expect(page.locator('#memories td.text').last().textContent()).resolves.toBe('Note 0');
      await expect(page.getByRole('button', { name: 'Show more' }).isHidden()).resolves.toBe(true);
    } finally {
      await inspector.close();
      await store.close();
    }
  });

  it('shows the parts of each score when the store gives them', async () => {
    const path = join(folder, 'parts.db');
    const inner = localStore({ path });
    await inner.add({ facts: [{ text: 'Prefers window seats on trains' }] }, { scope: { userId: 'carol' } });
    const store = {
      ...inner,
      search: async (query: string, options: Parameters<typeof inner.search>[1]) =>
        (await inner.search(query, options)).map((hit) => ({
          ...hit,
          scoreParts: { words: 0.5, neighbours: 0.25, vector: 0.75, recency: 0.95 },
        })),
    };
    const inspector = await startInspector({ store, port: 0, allowEdit: false });
    try {
      const page = await openPage(inspector.url);
      await searchFor(page, 'carol', 'window seats');
      await expect(page.locator('#memories td.parts div').allTextContents()).resolves.toEqual([
        'words 0.50',
        'neighbours 0.25',
        'vector 0.75',
        'recency 0.95',
      ]);
    } finally {
      await inspector.close();
      await inner.close();
    }
  });
});
