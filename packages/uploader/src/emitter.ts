// A minimal typed event emitter (no Node `events` in browsers, no DOM EventTarget in workers/tests).
type Handler = (...args: never[]) => void;

export class Emitter<Events extends Record<string, unknown[]>> {
  readonly #handlers = new Map<keyof Events, Set<Handler>>();

  on<E extends keyof Events>(event: E, handler: (...args: Events[E]) => void): () => void {
    let set = this.#handlers.get(event);
    if (!set) this.#handlers.set(event, (set = new Set()));
    set.add(handler as unknown as Handler);
    return () => this.off(event, handler);
  }

  off<E extends keyof Events>(event: E, handler: (...args: Events[E]) => void): void {
    this.#handlers.get(event)?.delete(handler as unknown as Handler);
  }

  protected emit<E extends keyof Events>(event: E, ...args: Events[E]): void {
    for (const handler of [...(this.#handlers.get(event) ?? [])]) {
      try {
        (handler as unknown as (...a: Events[E]) => void)(...args);
      } catch (err) {
        // A listener's bug must not break the upload.
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }
}
