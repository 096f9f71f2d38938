/** CORS for the signer's own API: an allow-list of origins; the signer's own origin is always allowed. */

export const CORS_ALLOW_HEADERS = 'authorization, content-type, chute-upload-token';
export const CORS_ALLOW_METHODS = 'GET, POST, DELETE, OPTIONS';

export function originAllowed(origin: string, allowList: readonly string[], ownOrigin: string | undefined): boolean {
  return origin === ownOrigin || allowList.includes('*') || allowList.includes(origin);
}

export function corsHeaders(origin: string): Record<string, string> {
  return {
    'access-control-allow-origin': origin,
    'access-control-expose-headers': 'retry-after',
    vary: 'Origin',
  };
}

export function preflightHeaders(origin: string): Record<string, string> {
  return {
    ...corsHeaders(origin),
    'access-control-allow-methods': CORS_ALLOW_METHODS,
    'access-control-allow-headers': CORS_ALLOW_HEADERS,
    'access-control-max-age': '600',
  };
}
