import type { Memory, MemoryPatch, Metadata, Scope } from '../../core/types.js';
import { findStatus } from './errors.js';
import type { Mem0Backend, Mem0ClientLike } from './mem0-shapes.js';
import {
  parseAddResult,
  parseCount,
  parseHistory,
  parseListPage,
  parseMemory,
  parseRawMetadata,
  parseSearchResult,
} from './normalise.js';
import { entityOptions, expirationDay, platformFilters, reservedMetadataKeys } from './scope-mapping.js';

/** The platform's largest `page_size`. */
const maxPageSize = 200;
/** The platform's `top_k` range. */
const maxTopK = 1000;

/** with-memory's store operations on the mem0 platform, through a `MemoryClient`. */
export function platformBackend(client: Mem0ClientLike): Mem0Backend {
  const backend: Mem0Backend = {
    async search(query, { scope, limit = 8, threshold, types, filters }) {
      const request: Record<string, unknown> = {
        filters: platformFilters(scope, { types, filters }),
        topK: Math.min(Math.max(1, Math.floor(limit)), maxTopK),
      };
      if (threshold !== undefined) request.threshold = threshold;
      return parseSearchResult(await client.search(query, request), 'platform', scope);
    },

    async addMessages(messages, { scope, metadata }) {
      const request: Record<string, unknown> = entityOptions(scope, { appId: true });
      if (metadata !== undefined) request.metadata = metadata;
      return parseAddResult(await client.add(messages, request));
    },

    async addFacts(group, scope) {
      const request: Record<string, unknown> = {
        ...entityOptions(scope, { appId: true }),
        metadata: group.metadata,
        infer: false,
      };
      if (group.expirationDate !== undefined) request.expirationDate = group.expirationDate;
      return parseAddResult(await client.add(group.messages, request));
    },
  };

  const { get, getAll, update, delete: remove, deleteAll, history } = client;

  if (get) {
    const fetchRaw = async (id: string): Promise<unknown> => {
      try {
        return await get.call(client, id);
      } catch (error) {
        if (findStatus(error) === 404) return null;
        throw error;
      }
    };
    backend.get = async (id) => parseMemory(await fetchRaw(id), 'platform', 'get');

    if (update) {
      backend.update = async (id, patch) => {
        const current = await fetchRaw(id);
        if (current === null) return null;
        const data = updateRequest(patch, () => parseRawMetadata(current, 'update'));
        if (Object.keys(data).length > 0) {
          try {
            await update.call(client, id, data);
          } catch (error) {
            if (findStatus(error) === 404) return null;
            throw error;
          }
        }
        // Read back: the platform's update answer is typed one way and shaped another across versions.
        return parseMemory(await fetchRaw(id), 'platform', 'update');
      };
    }
  }

  if (getAll) {
    backend.list = async ({ scope, types, filters, limit = 100, offset = 0 }) => {
      const pageSize = Math.min(Math.max(1, limit), maxPageSize);
      let page = Math.floor(offset / pageSize) + 1;
      let skip = offset % pageSize;
      const memories: Memory[] = [];
      while (memories.length < limit) {
        const answer = await getAll.call(client, {
          filters: platformFilters(scope, { types, filters }),
          page,
          pageSize,
        });
        const result = parseListPage(answer, 'platform', scope);
        memories.push(...result.memories.slice(skip));
        skip = 0;
        if (!result.hasNext || result.memories.length === 0) break;
        page += 1;
      }
      return memories.slice(0, limit).sort(newestFirst);
    };

    if (deleteAll) {
      backend.deleteAll = async (scope) => {
        const count = await countMemories(getAll.bind(client), scope);
        await deleteAll.call(client, entityOptions(scope, { appId: true }));
        return count;
      };
    }
  }

  if (remove) {
    backend.delete = async (id) => {
      try {
        await remove.call(client, id);
        return true;
      } catch (error) {
        if (findStatus(error) === 404) return false;
        throw error;
      }
    };
  }

  if (history) {
    backend.history = async (id) => {
      try {
        return parseHistory(await history.call(client, id), id);
      } catch (error) {
        if (findStatus(error) === 404) return [];
        throw error;
      }
    };
  }

  return backend;
}

/**
 * The body of the platform's `update`. Its metadata is written whole, so a type or expiry change
 * starts from the metadata mem0 holds, and new user metadata keeps the reserved keys.
 */
function updateRequest(patch: MemoryPatch, currentMetadata: () => Metadata): Record<string, unknown> {
  const data: Record<string, unknown> = {};
  if (patch.text !== undefined) data.text = patch.text;
  if (patch.metadata === undefined && patch.type === undefined && patch.expiresAt === undefined) return data;

  const current = currentMetadata();
  const metadata: Metadata = patch.metadata === undefined ? { ...current } : { ...patch.metadata };
  for (const key of Object.values(reservedMetadataKeys)) {
    if (patch.metadata !== undefined && current[key] !== undefined) metadata[key] = current[key];
  }
  if (patch.type !== undefined) metadata[reservedMetadataKeys.type] = patch.type;
  if (patch.expiresAt !== undefined) {
    // null, not a missing key: a platform that merges metadata must forget the expiry too.
    metadata[reservedMetadataKeys.expiresAt] = patch.expiresAt === null ? null : patch.expiresAt.toISOString();
    data.expirationDate = patch.expiresAt === null ? null : expirationDay(patch.expiresAt);
  }
  data.metadata = metadata;
  return data;
}

async function countMemories(
  getAll: (options: Record<string, unknown>) => Promise<unknown>,
  scope: Scope,
): Promise<number> {
  const filters = platformFilters(scope);
  const first = await getAll({ filters, page: 1, pageSize: 1 });
  const count = parseCount(first);
  if (count !== undefined) return count;
  // No total in the answer: count page by page.
  let total = 0;
  for (let page = 1; ; page += 1) {
    const result = parseListPage(await getAll({ filters, page, pageSize: maxPageSize }), 'platform', scope);
    total += result.memories.length;
    if (!result.hasNext || result.memories.length === 0) return total;
  }
}

function newestFirst(a: Memory, b: Memory): number {
  return b.updatedAt.getTime() - a.updatedAt.getTime();
}
