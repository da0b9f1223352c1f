import type { Memory, Metadata, Scope } from '../../core/types.js';
import type { Mem0Backend, Mem0MemoryLike } from './mem0-shapes.js';
import { parseAddResult, parseHistory, parseListResult, parseMemory, parseSearchResult } from './normalise.js';
import { entityOptions, expirationDay, ossFilters, reservedMetadataKeys } from './scope-mapping.js';

/**
 * How many memories of a scope `list` reads to sort them newest first: the OSS `getAll` has no
 * paging and returns memories in the vector store's order.
 */
const listWindow = 10_000;
/** How many memories `deleteAll` reads per round. */
const deleteBatch = 1_000;

/** with-memory's store operations on mem0's open-source `Memory`, in process. */
export function ossBackend(memory: Mem0MemoryLike): Mem0Backend {
  const backend: Mem0Backend = {
    async search(query, { scope, limit = 8, threshold, types, filters }) {
      const config: Record<string, unknown> = {
        filters: ossFilters(scope, { types, filters }),
        topK: Math.max(1, Math.floor(limit)),
      };
      if (threshold !== undefined) config.threshold = threshold;
      return parseSearchResult(await memory.search(query, config), 'oss', scope);
    },

    async addMessages(messages, { scope, metadata }) {
      const config = { ...entityOptions(scope, { appId: false }), metadata: withAppId(metadata, scope) };
      return parseAddResult(await memory.add(messages, config));
    },

    async addFacts(group, scope) {
      const config: Record<string, unknown> = {
        ...entityOptions(scope, { appId: false }),
        metadata: withAppId(group.metadata, scope),
        infer: false,
      };
      if (group.expirationDate !== undefined) config.expirationDate = group.expirationDate;
      return parseAddResult(await memory.add(group.messages, config));
    },
  };

  const { get, getAll, update, delete: remove, history } = memory;

  if (get) {
    backend.get = async (id) => parseMemory(await get.call(memory, id), 'oss', 'get');

    if (update) {
      backend.update = async (id, patch) => {
        if ((await get.call(memory, id)) === null) return null;
        // The OSS Memory merges metadata into what it holds; it cannot remove a key.
        const metadata: Metadata = { ...patch.metadata };
        const config: Record<string, unknown> = {};
        if (patch.text !== undefined) config.text = patch.text;
        if (patch.type !== undefined) metadata[reservedMetadataKeys.type] = patch.type;
        if (patch.expiresAt !== undefined) {
          metadata[reservedMetadataKeys.expiresAt] = patch.expiresAt === null ? null : patch.expiresAt.toISOString();
          config.expirationDate = patch.expiresAt === null ? null : expirationDay(patch.expiresAt);
        }
        if (Object.keys(metadata).length > 0) config.metadata = metadata;
        if (Object.keys(config).length > 0) await update.call(memory, id, config);
        return parseMemory(await get.call(memory, id), 'oss', 'update');
      };
    }

    if (remove) {
      backend.delete = async (id) => {
        // Deleting an unknown id throws a plain Error in the OSS Memory; asking first tells the cases apart.
        if ((await get.call(memory, id)) === null) return false;
        await remove.call(memory, id);
        return true;
      };
    }
  }

  if (getAll) {
    backend.list = async ({ scope, types, filters, limit = 100, offset = 0 }) => {
      const answer = await getAll.call(memory, { filters: ossFilters(scope, { types, filters }), topK: listWindow });
      return parseListResult(answer, 'oss', scope)
        .sort(newestFirst)
        .slice(offset, offset + limit);
    };

    if (remove) {
      // Memory.deleteAll knows no app id, so it would delete other apps' memories: delete one by one.
      backend.deleteAll = async (scope) => {
        let deleted = 0;
        for (;;) {
          const answer = await getAll.call(memory, {
            filters: ossFilters(scope),
            topK: deleteBatch,
            showExpired: true,
          });
          const batch = parseListResult(answer, 'oss', scope);
          if (batch.length === 0) return deleted;
          for (const item of batch) await remove.call(memory, item.id);
          deleted += batch.length;
        }
      };
    }
  }

  if (history) {
    backend.history = async (id) => parseHistory(await history.call(memory, id), id);
  }

  return backend;
}

// The OSS Memory has no app id: keep it as metadata, which its filters can match.
function withAppId(metadata: Metadata | undefined, scope: Scope): Metadata {
  return scope.appId === undefined ? { ...metadata } : { ...metadata, app_id: scope.appId };
}

function newestFirst(a: Memory, b: Memory): number {
  return b.updatedAt.getTime() - a.updatedAt.getTime();
}
