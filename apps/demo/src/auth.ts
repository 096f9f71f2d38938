// The demo's credential: none in dev mode (the signer trusts loopback callers), or a bearer
// token given once as `?token=…` and kept in localStorage.
const KEY = 'chute-demo-token';

export function getAuthToken(): string | null {
  const fromUrl = new URLSearchParams(location.search).get('token');
  if (fromUrl) localStorage.setItem(KEY, fromUrl);
  return fromUrl ?? localStorage.getItem(KEY);
}
