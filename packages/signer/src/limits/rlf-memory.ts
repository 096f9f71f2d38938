import type { RateLimiterMemory as Typed } from 'rate-limiter-flexible';
// The core loads only the in-memory limiter of rate-limiter-flexible: its index also loads the
// cluster limiter, which needs Node's `cluster` module (absent in browsers and Workers). The deep
// path has no declaration of its own; its type is the index's.
// @ts-ignore -- TS7016 (no .d.ts for the deep path), in every consumer that compiles this source
import Impl from 'rate-limiter-flexible/lib/RateLimiterMemory.js';

export const RateLimiterMemory = Impl as typeof Typed;
