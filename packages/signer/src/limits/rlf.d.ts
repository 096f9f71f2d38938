// The core loads only the in-memory limiter of rate-limiter-flexible: its index also loads the
// cluster limiter, which needs Node's `cluster` module (absent in browsers and Workers).
declare module 'rate-limiter-flexible/lib/RateLimiterMemory.js' {
  import { RateLimiterMemory } from 'rate-limiter-flexible';
  export default RateLimiterMemory;
}
