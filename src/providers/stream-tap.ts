/**
 * Watches an SDK stream (`Stream` of `@anthropic-ai/sdk` or `openai`) without buffering it: every
 * event reaches the caller untouched and in order, each is shown to `onEvent` on the way, and
 * `onEnd` runs once the stream has ended normally, before the caller's loop sees the end (so an
 * awaited write is stored when the loop finishes). A stream the caller abandons or that fails
 * never reaches `onEnd`: a half reply is not written back.
 *
 * Both SDKs read their events through the stream's `iterator` function (for `for await`, `tee()`
 * and `toReadableStream()` alike), so replacing that function on the same object keeps the
 * stream's class, `controller` and helpers. Returns false when the stream has no such function.
 */
export function tapStream<E>(stream: unknown, onEvent: (event: E) => void, onEnd: () => Promise<void>): boolean {
  const target = stream as { iterator?: unknown };
  if (typeof target !== 'object' || target === null || typeof target.iterator !== 'function') return false;
  const source = target.iterator as () => AsyncIterator<E>;
  target.iterator = async function* tapped() {
    const events = { [Symbol.asyncIterator]: () => source.call(stream) };
    for await (const event of events) {
      onEvent(event);
      yield event;
    }
    await onEnd();
  };
  return true;
}
