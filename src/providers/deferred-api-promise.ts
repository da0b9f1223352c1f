/** The part of an SDK's `APIPromise` (both SDKs have the same) that callers use. */
export interface ApiPromiseLike<T> extends PromiseLike<T> {
  withResponse(): Promise<{ data: T; response: Response; request_id?: string | null | undefined }>;
  asResponse(): Promise<Response>;
}

/** What a wrapped `create` returns: a promise of the result, with the SDK's extras kept. */
export type DeferredCall<T = unknown> = Promise<T> & Pick<ApiPromiseLike<T>, 'withResponse' | 'asResponse'>;

/**
 * Returns a promise for an SDK call that starts after the memory search, with the SDK's
 * `withResponse()` and `asResponse()` kept, so code (and SDK helpers such as `messages.stream`)
 * that uses them works on the wrapped client.
 *
 * `transform` sees the parsed result once, whichever way it is read, and only when it is read:
 * like the SDK's own `APIPromise`, `asResponse()` alone leaves the body unread for the caller.
 * A transform that returns a promise (an awaited write) delays the result until it settles.
 */
export function deferApiPromise<T, C>(
  start: Promise<{ call: ApiPromiseLike<T>; context: C }>,
  transform: (data: T, context: C) => T | Promise<T>,
): DeferredCall<T> {
  let result: Promise<T> | undefined;
  const read = () => {
    result ??= start.then(async ({ call, context }) => transform(await call, context));
    return result;
  };
  const deferred = {
    // biome-ignore lint/suspicious/noThenProperty: this object is a promise, read lazily like the SDK's APIPromise
    then: <A = T, B = never>(
      onFulfilled?: ((value: T) => A | PromiseLike<A>) | null,
      onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
    ) => read().then(onFulfilled, onRejected),
    catch: <B = never>(onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null) => read().catch(onRejected),
    finally: (onFinally?: (() => void) | null) => read().finally(onFinally),
    [Symbol.toStringTag]: 'Promise',
    async withResponse() {
      const { call } = await start;
      const withResponse = await call.withResponse();
      return { ...withResponse, data: await read() };
    },
    async asResponse() {
      const { call } = await start;
      return call.asResponse();
    },
  };
  return deferred as unknown as DeferredCall<T>;
}
