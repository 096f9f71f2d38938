import { ChuteError } from '../errors.js';

/** A store that fails (Redis down) is the operator's problem: 503, never a silent pass or a 500. */
export async function guarded<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    if (err instanceof ChuteError) throw err;
    throw new ChuteError('limits_unavailable', 'The limits store (Redis, or the Worker\u2019s Durable Object) could not be reached; retry shortly.', { cause: err });
  }
}

export const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));
