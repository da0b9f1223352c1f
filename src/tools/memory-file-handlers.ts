/**
 * `memoryToolHandlers`: the handlers of Claude's memory tool (`memory_20250818`) over a store, so
 * the files Claude keeps under `/memories` are memories of the scope that `withMemory` searches and
 * injects from. `@anthropic-ai/sdk` is not loaded: the handlers only read the commands' shapes.
 *
 * @module
 */

import type { WithMemoryOptions } from '../core/options.js';
import { checkMemories } from '../core/store-results.js';
import type { Memory, MemoryChange, MemoryOperation, Scope } from '../core/types.js';
import { toStoreError } from '../core/writeback.js';
import { applyWrite, maxSavedTextLength, type ToolAnswer } from './memory-operations.js';
import { resolveToolContext, type ToolContext } from './tool-context.js';

/** The commands of Claude's memory tool, as `betaMemoryTool` hands them to its handlers. */
export interface MemoryToolCommands {
  view: { command: 'view'; path: string; view_range?: number[] };
  create: { command: 'create'; path: string; file_text: string };
  str_replace: { command: 'str_replace'; path: string; old_str: string; new_str: string };
  insert: { command: 'insert'; path: string; insert_line: number; insert_text: string };
  delete: { command: 'delete'; path: string };
  rename: { command: 'rename'; old_path: string; new_path: string };
}

/**
 * The handlers object for `betaMemoryTool` of `@anthropic-ai/sdk` (`helpers/beta/memory`). Each
 * answers with text for the model, or throws an `Error` whose message the tool runner sends back
 * as an error result.
 */
export type MemoryFileHandlers = {
  [Command in keyof MemoryToolCommands]: (command: MemoryToolCommands[Command]) => Promise<string>;
};

/** The memory type of a file kept by Claude's memory tool. */
export const memoryFileType = 'note';

const root = '/memories';
const maxPathLength = 256;
// Control characters and backslashes have no place in a file path the model writes.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
const unsafePathCharacters = /[\u0000-\u001f\u007f-\u009f\\]/;

/**
 * The handlers of Claude's memory tool (view, create, str_replace, insert, delete, rename) over a
 * `/memories` tree kept in the store: each file is one memory of the scope, of type `note`, with
 * its path in `metadata.file`, so `withMemory` with the same options finds and injects it, and
 * history, redaction, `ttl`, `shouldWrite` and `onWrite` apply as to any write. A path outside
 * `/memories` (`..`, `.`, empty segments, backslashes), a file over 2000 characters and every
 * write in `mode: 'read-only'` are refused with a message the model can read.
 *
 * @example
 * ```ts
 * import Anthropic from '@anthropic-ai/sdk';
 * import { betaMemoryTool } from '@anthropic-ai/sdk/helpers/beta/memory';
 * import { memoryToolHandlers } from 'with-memory';
 *
 * const memory = betaMemoryTool(memoryToolHandlers({ scope: { userId: 'user_42' } }));
 * const reply = await new Anthropic().beta.messages.toolRunner({
 *   model, max_tokens: 1024, tools: [memory], messages,
 * });
 * ```
 */
export function memoryToolHandlers(options: WithMemoryOptions): MemoryFileHandlers {
  const context = resolveToolContext(options);
  // Each call resolves its scope, as `withMemory` does per turn, so a scope function serves many users.
  const scopedTree = async () => {
    const scopes = await context.scopes();
    if (!scopes) throw new Error('Error: memory is unavailable right now; go on without it.');
    return memoryTree(context, scopes.scope);
  };

  return {
    async view(command) {
      const path = checkPath(command?.path, 'path');
      const tree = await scopedTree();
      const files = await tree.files();
      const file = files.get(path);
      if (file) return numbered(path, file.text, command.view_range);
      const inside = [...files.keys()].filter((name) => name.startsWith(`${path}/`));
      if (path !== root && inside.length === 0) throw missing(path);
      return listing(path, inside, files);
    },

    async create(command) {
      const path = checkFilePath(command?.path);
      const text = checkText(command?.file_text, 'file_text');
      const tree = await scopedTree();
      const files = await tree.files();
      if ([...files.keys()].some((name) => name.startsWith(`${path}/`))) {
        throw new Error(`Error: ${path} is a directory; choose a file name inside it.`);
      }
      refuseFileAncestor(files, path);
      const existing = files.get(path);
      if (existing) {
        await tree.change({ kind: 'update', id: existing.id, patch: { text: context.redact(text) } });
        return `File overwritten at: ${path}`;
      }
      await tree.add(path, text, files);
      return `File created successfully at: ${path}`;
    },

    async str_replace(command) {
      const path = checkFilePath(command?.path);
      const oldText = checkString(command?.old_str, 'old_str');
      const newText = checkString(command?.new_str, 'new_str');
      const tree = await scopedTree();
      const file = await tree.file(path);
      const count = oldText === '' ? 0 : file.text.split(oldText).length - 1;
      if (count === 0) {
        throw new Error(`Error: No replacement was performed; old_str did not appear verbatim in ${path}.`);
      }
      if (count > 1) {
        throw new Error(
          `Error: No replacement was performed; old_str appears ${count} times in ${path}: make it unique.`,
        );
      }
      await tree.rewrite(
        file,
        file.text.replace(oldText, () => newText),
      );
      return `The memory file ${path} has been edited.`;
    },

    async insert(command) {
      const path = checkFilePath(command?.path);
      const insertText = checkString(command?.insert_text, 'insert_text');
      const tree = await scopedTree();
      const file = await tree.file(path);
      const lines = file.text.split('\n');
      const at = command?.insert_line;
      if (typeof at !== 'number' || !Number.isInteger(at) || at < 0 || at > lines.length) {
        throw new Error(`Error: insert_line must be a whole number from 0 to ${lines.length} for ${path}.`);
      }
      await tree.rewrite(file, [...lines.slice(0, at), insertText, ...lines.slice(at)].join('\n'));
      return `The memory file ${path} has been edited.`;
    },

    async delete(command) {
      const path = checkPath(command?.path, 'path');
      if (path === root) throw new Error(`Error: ${root} itself cannot be deleted; delete the files inside it.`);
      const tree = await scopedTree();
      const files = await tree.files();
      const doomed = [...files].filter(([name]) => name === path || name.startsWith(`${path}/`));
      if (doomed.length === 0) throw missing(path);
      for (const [, file] of doomed) await tree.change({ kind: 'delete', id: file.id });
      return `Successfully deleted ${path}`;
    },

    async rename(command) {
      const from = checkFilePath(command?.old_path, 'old_path');
      const to = checkFilePath(command?.new_path, 'new_path');
      if (to === from || to.startsWith(`${from}/`)) throw new Error(`Error: ${from} cannot be moved into itself.`);
      const tree = await scopedTree();
      const files = await tree.files();
      const moving = [...files].filter(([name]) => name === from || name.startsWith(`${from}/`));
      if (moving.length === 0) throw missing(from);
      if ([...files.keys()].some((name) => name === to || name.startsWith(`${to}/`))) {
        throw new Error(`Error: ${to} already exists; delete it first or choose another name.`);
      }
      refuseFileAncestor(files, to);
      for (const [name, file] of moving) {
        const metadata = { ...file.metadata, file: to + name.slice(from.length) };
        await tree.change({ kind: 'update', id: file.id, patch: { metadata } });
      }
      return `Successfully renamed ${from} to ${to}`;
    },
  };
}

/** The `/memories` files of one scope, read from and written to the store. */
function memoryTree(context: ToolContext, scope: Scope) {
  const { store } = context;

  async function files(): Promise<Map<string, Memory>> {
    if (!store.list) throw new Error(`Error: the store "${store.name}" cannot list memories, so it cannot keep files.`);
    const list = store.list.bind(store);
    const byPath = new Map<string, Memory>();
    const pageSize = 1000;
    for (let offset = 0; ; offset += pageSize) {
      const page = await read(async () => {
        const listed = await list({ scope, types: [memoryFileType], limit: pageSize, offset });
        return { all: listed.length, inside: checkMemories(listed, store.name, scope).memories };
      });
      for (const memory of page.inside) {
        const path = memory.metadata.file;
        if (typeof path === 'string' && path.startsWith(`${root}/`) && !byPath.has(path)) byPath.set(path, memory);
      }
      if (page.all < pageSize) return byPath;
    }
  }

  /** A read the model is waiting on: a failure is reported and becomes a readable error. */
  async function read<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      context.report(toStoreError(error, store.name, 'list'), { stage: 'search', scope });
      throw new Error('Error: memory is unavailable right now; go on without it.');
    }
  }

  async function file(path: string): Promise<Memory> {
    const found = (await files()).get(path);
    if (!found) throw missing(path);
    return found;
  }

  async function change(operation: MemoryOperation): Promise<MemoryChange[]> {
    let made: MemoryChange[] = [];
    const answer = await applyWrite(context, operation, scope, async () => {
      if (operation.kind === 'update') {
        if (!store.update) throw new Error(`the store "${store.name}" cannot update memories`);
        const updated = await store.update(operation.id, operation.patch, { reason: 'memory tool' });
        return { changes: updated ? [{ event: 'UPDATE', id: operation.id, text: updated.text }] : [], answer: '' };
      }
      if (operation.kind === 'delete') {
        if (!store.delete) throw new Error(`the store "${store.name}" cannot delete memories`);
        const deleted = await store.delete(operation.id, { reason: 'memory tool' });
        return { changes: deleted ? [{ event: 'DELETE', id: operation.id }] : [], answer: '' };
      }
      made = await store.add(operation.write, { scope, reason: 'memory tool' });
      return { changes: made, answer: '' };
    });
    throwIfError(answer);
    return made;
  }

  return {
    files,
    file,
    change,
    /**
     * Adds a file. The stores merge a restatement into the memory it restates (same scope and
     * type, metadata merged): then the text is kept by another file, whose path is put back, and
     * the model is told which. `before` is the tree as it was.
     */
    async add(path: string, text: string, before: Map<string, Memory>): Promise<void> {
      const changes = await change({
        kind: 'add',
        write: {
          facts: [
            {
              text: context.redact(text),
              type: memoryFileType,
              metadata: { file: path, source: 'memory-tool' },
              createdAt: context.now(),
              ...(context.ttl[memoryFileType] !== undefined && {
                expiresAt: new Date(Date.now() + (context.ttl[memoryFileType] ?? 0)),
              }),
            },
          ],
        },
      });
      const merged = changes.find((item) => item.event === 'UPDATE' || item.event === 'NONE');
      if (!merged || changes.some((item) => item.event === 'ADD')) return;
      const [keeper, memory] = [...before].find(([, file]) => file.id === merged.id) ?? [];
      if (keeper === undefined || memory === undefined) return;
      await change({ kind: 'update', id: memory.id, patch: { metadata: memory.metadata } });
      throw new Error(`Error: this text restates ${keeper}, which keeps it; edit that file instead.`);
    },
    rewrite(memory: Memory, text: string) {
      return change({
        kind: 'update',
        id: memory.id,
        patch: { text: context.redact(checkText(text, 'the edited file')) },
      });
    },
  };
}

function throwIfError(answer: ToolAnswer): void {
  if (answer.isError) throw new Error(`Error: ${answer.text}`);
}

function checkString(value: unknown, name: string): string {
  if (typeof value !== 'string') throw new Error(`Error: ${name} must be a string.`);
  return value;
}

function checkText(value: unknown, name: string): string {
  const text = checkString(value, name);
  if (text.trim() === '') throw new Error(`Error: ${name} is empty; write some text, or delete the file.`);
  if (text.length > maxSavedTextLength) {
    throw new Error(
      `Error: ${name} is ${text.length} characters; a memory file holds at most ${maxSavedTextLength}. Split it into several files.`,
    );
  }
  return text;
}

/** A path under `/memories`, without a trailing slash; anything that could leave the tree is refused. */
function checkPath(value: unknown, name: string): string {
  const path = checkString(value, name).replace(/\/+$/, '');
  if (path.length > maxPathLength) throw new Error(`Error: ${name} is longer than ${maxPathLength} characters.`);
  const segments = path.split('/');
  if (
    unsafePathCharacters.test(path) ||
    segments[0] !== '' ||
    segments[1] !== 'memories' ||
    segments.slice(2).some((segment) => segment === '' || segment === '.' || segment === '..')
  ) {
    throw new Error(
      `Error: ${name} must be a plain path under ${root} (no "..", "." or empty parts), such as ${root}/notes.md.`,
    );
  }
  return path;
}

function checkFilePath(value: unknown, name = 'path'): string {
  const path = checkPath(value, name);
  if (path === root) throw new Error(`Error: ${name} must name a file inside ${root}, such as ${root}/notes.md.`);
  return path;
}

/** A path under a file (`/memories/a.md/b`) would make the file a directory as well. */
function refuseFileAncestor(files: Map<string, Memory>, path: string): void {
  const parts = path.split('/');
  for (let end = 3; end < parts.length; end += 1) {
    const ancestor = parts.slice(0, end).join('/');
    if (files.has(ancestor)) throw new Error(`Error: ${ancestor} is a file, so ${path} cannot be inside it.`);
  }
}

function missing(path: string): Error {
  return new Error(`Error: The path ${path} does not exist.`);
}

function numbered(path: string, text: string, range: unknown): string {
  const lines = text.split('\n');
  let [start, end] = [1, lines.length];
  if (range !== undefined) {
    const valid =
      Array.isArray(range) && range.length === 2 && range.every((item) => Number.isInteger(item)) && range[0] >= 1;
    if (!valid) throw new Error('Error: view_range must be [first line, last line] (last -1 for the end).');
    start = range[0];
    end = range[1] === -1 ? lines.length : Math.min(range[1], lines.length);
  }
  const shown = lines.slice(start - 1, end).map((line, index) => `${String(start + index).padStart(6)}\t${line}`);
  return `Here's the content of ${path} with line numbers:\n${shown.join('\n')}`;
}

function listing(path: string, inside: string[], files: Map<string, Memory>): string {
  const depth = path.split('/').length;
  const entries = new Map<string, string>();
  for (const name of inside) {
    const parts = name.split('/');
    // Up to two levels below the directory, like the reference implementation.
    for (let level = depth + 1; level <= Math.min(parts.length, depth + 2); level += 1) {
      const entry = parts.slice(0, level).join('/');
      const isFile = entry === name;
      entries.set(entry, isFile ? size(files.get(name)?.text ?? '') : '-');
    }
  }
  const lines = [...entries].sort(([a], [b]) => a.localeCompare(b)).map(([entry, bytes]) => `${bytes}\t${entry}`);
  return `Here're the files and directories up to 2 levels deep in ${path}:\n-\t${path}${lines.length ? `\n${lines.join('\n')}` : ''}`;
}

function size(text: string): string {
  return `${Buffer.byteLength(text)}B`;
}
