import type { FactInput, MemoryType, Metadata, MetadataFilter, MetadataValue, Scope } from '../../core/types.js';

/**
 * Metadata keys with-memory keeps for itself inside mem0's metadata: mem0 has no field for a
 * memory's type, and its own expiry counts in whole days.
 */
export const reservedMetadataKeys = {
  type: 'memory_type',
  expiresAt: 'expires_at',
} as const;

/** Entity ids as mem0's `add` and `deleteAll` take them (camelCase; the platform client snake-cases them). */
export function entityOptions(scope: Scope, { appId }: { appId: boolean }): Record<string, string> {
  const options: Record<string, string> = {};
  if (scope.userId !== undefined) options.userId = scope.userId;
  if (scope.agentId !== undefined) options.agentId = scope.agentId;
  if (scope.runId !== undefined) options.runId = scope.runId;
  if (appId && scope.appId !== undefined) options.appId = scope.appId;
  return options;
}

/** True when the scope names at least one of the ids mem0 requires (user, agent or run). */
export function hasEntityId(scope: Scope): boolean {
  return scope.userId !== undefined || scope.agentId !== undefined || scope.runId !== undefined;
}

interface FilterInput {
  types?: MemoryType[] | undefined;
  filters?: MetadataFilter | undefined;
}

type Condition = Record<string, unknown>;

/**
 * The platform's `filters` for a scope: snake_case entity ids, types and metadata in mem0's filter
 * language, all combined with AND. A lone entity id stays the short form `{ user_id }`.
 */
export function platformFilters(scope: Scope, { types, filters }: FilterInput = {}): Condition {
  const conditions: Condition[] = [];
  if (scope.userId !== undefined) conditions.push({ user_id: scope.userId });
  if (scope.agentId !== undefined) conditions.push({ agent_id: scope.agentId });
  if (scope.appId !== undefined) conditions.push({ app_id: scope.appId });
  if (scope.runId !== undefined) conditions.push({ run_id: scope.runId });
  if (types && types.length > 0) conditions.push(anyOf(reservedMetadataKeys.type, types));
  for (const [key, wanted] of Object.entries(filters ?? {})) {
    conditions.push(anyOf(key, Array.isArray(wanted) ? wanted : [wanted]));
  }
  return conditions.length === 1 && conditions[0] ? conditions[0] : { AND: conditions };
}

// The platform's metadata filter takes only equality (no `in`), so several values become an OR.
function anyOf(key: string, values: readonly MetadataValue[]): Condition {
  const each = values.map((value) => ({ metadata: { [key]: value } }));
  return each.length === 1 && each[0] ? each[0] : { OR: each };
}

/**
 * The OSS `Memory`'s `filters` for a scope. Its vector stores see metadata as top-level payload
 * keys, and it knows no app id, so `app_id` is a metadata key there (the OSS backend writes it).
 */
export function ossFilters(scope: Scope, { types, filters }: FilterInput = {}): Condition {
  const conditions: Condition = {};
  for (const [key, wanted] of Object.entries(filters ?? {})) {
    conditions[key] = Array.isArray(wanted) ? { in: wanted } : wanted;
  }
  if (types && types.length > 0) {
    conditions[reservedMetadataKeys.type] = types.length === 1 ? types[0] : { in: types };
  }
  // Entity ids last: a metadata filter named like one must never widen the scope.
  if (scope.userId !== undefined) conditions.user_id = scope.userId;
  if (scope.agentId !== undefined) conditions.agent_id = scope.agentId;
  if (scope.runId !== undefined) conditions.run_id = scope.runId;
  if (scope.appId !== undefined) conditions.app_id = scope.appId;
  return conditions;
}

/** mem0's metadata for one fact: the write's metadata, the fact's own, and the reserved keys. */
export function factMetadata(base: Metadata | undefined, fact: FactInput): Metadata {
  const metadata: Metadata = { ...base, ...fact.metadata };
  if (fact.type !== undefined) metadata[reservedMetadataKeys.type] = fact.type;
  if (fact.expiresAt !== undefined) metadata[reservedMetadataKeys.expiresAt] = fact.expiresAt.toISOString();
  return metadata;
}

/**
 * mem0's expiry for an instant: the UTC day it falls on. mem0 hides a memory only after that day,
 * so it never hides one early; the exact instant is kept in metadata and checked on reads.
 */
export function expirationDay(expiresAt: Date): string {
  return expiresAt.toISOString().slice(0, 10);
}
