/** The part of an SDK's `APIPromise` (both SDKs have the same) that callers use. */
export interface ApiPromiseLike<T> extends PromiseLike<T> {
  withResponse(): Promise<{ data: T; response: Response; request_id?: string | null | undefined }>;
  asResponse(): Promise<Response>;
}

/**
 * Returns a promise for an SDK call that starts after the memory search, with the SDK's
 * `withResponse()` and `asResponse()` kept, so code (and SDK helpers such as `messages.stream`)
 * that uses them works on the wrapped client. `transform` sees the result once, whichever way it
 * is read.
 */
export function deferApiPromise<T, C>(
  start: Promise<{ call: ApiPromiseLike<T>; context: C }>,
  transform: (data: T, context: C) => T,
): Promise<T> & Pick<ApiPromiseLike<T>, 'withResponse' | 'asResponse'> {
  const result = start.then(async ({ call, context }) => transform(await call, context));
  // Callers that only use withResponse() never await `result`; its rejection is theirs through that path.
  result.catch(() => {});
  return Object.assign(result, {
    async withResponse() {
      const { call } = await start;
      const withResponse = await call.withResponse();
      return { ...withResponse, data: await result };
    },
    async asResponse() {
      const { call } = await start;
      return call.asResponse();
    },
  });
}
