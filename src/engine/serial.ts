/**
 * Tasks run one after another, in the order given: each starts once the one
 * before it has settled, whatever its outcome (a failed save does not stop the
 * next). Used where the engine's saves and syncs must not overlap.
 */
export class Serial {
  #tail: Promise<unknown> = Promise.resolve();

  /** Runs `task` after every task given before it; answers its outcome. */
  run<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(task);
    this.#tail = run.catch(() => {});
    return run;
  }

  /** Resolves once every task given so far has settled. */
  async idle(): Promise<void> {
    await this.#tail;
  }
}
