import type { IncomingHttpHeaders } from 'node:http';
import { S3Error } from '../errors.js';
import { asArray, onlyKeys, parseXml, text } from '../xml.js';

export interface CorsRule {
  id?: string;
  origins: string[];
  methods: string[];
  headers: string[];
  expose: string[];
  maxAge?: number;
}

const METHODS = ['GET', 'PUT', 'POST', 'DELETE', 'HEAD'];

/** Matches with at most one `*` wildcard, case-sensitively for origins, -insensitively for headers. */
function wildcardMatch(pattern: string, value: string): boolean {
  const star = pattern.indexOf('*');
  if (star === -1) return pattern === value;
  const pre = pattern.slice(0, star);
  const post = pattern.slice(star + 1);
  return value.length >= pre.length + post.length && value.startsWith(pre) && value.endsWith(post);
}

function validOrigin(o: string): boolean {
  if (o === '*') return true;
  if (o.split('*').length > 2) return false;
  if (/:\*$/.test(o) || /:\*\//.test(o)) return false;
  return /^[a-z][a-z0-9+.-]*:\/\/[^\s/]+$/i.test(o);
}

/** Parses and validates a PutBucketCors body, as R2 does (unknown keys, bad origins → MalformedXML). */
export function parseCorsXml(xml: string): CorsRule[] {
  const root = parseXml(xml, 'CORSConfiguration');
  onlyKeys(root, ['CORSRule']);
  const rules = asArray(root.CORSRule as Record<string, unknown>[] | undefined);
  if (rules.length === 0 || rules.length > 100) throw new S3Error('MalformedXML', 'A CORS configuration needs 1 to 100 CORSRule elements.');
  return rules.map((r) => {
    if (typeof r !== 'object' || r === null) throw new S3Error('MalformedXML');
    onlyKeys(r, ['ID', 'AllowedOrigin', 'AllowedMethod', 'AllowedHeader', 'ExposeHeader', 'MaxAgeSeconds']);
    const list = (v: unknown) => asArray(v as unknown[] | undefined).map((x) => text(x) ?? '');
    const rule: CorsRule = {
      origins: list(r.AllowedOrigin),
      methods: list(r.AllowedMethod),
      headers: list(r.AllowedHeader),
      expose: list(r.ExposeHeader),
    };
    const id = text(r.ID);
    if (id !== undefined) rule.id = id;
    if (rule.origins.length === 0 || rule.methods.length === 0)
      throw new S3Error('MalformedXML', 'Each CORSRule needs at least one AllowedOrigin and one AllowedMethod.');
    for (const o of rule.origins)
      if (!validOrigin(o)) throw new S3Error('MalformedXML', `AllowedOrigin '${o}' is not a valid origin (one '*' at most, no port wildcard).`);
    for (const m of rule.methods)
      if (!METHODS.includes(m)) throw new S3Error('MalformedXML', `AllowedMethod '${m}' is not one of ${METHODS.join(', ')}.`);
    for (const hd of rule.headers)
      if (hd === '' || hd.split('*').length > 2) throw new S3Error('MalformedXML', `AllowedHeader '${hd}' is not valid.`);
    const maxAge = text(r.MaxAgeSeconds);
    if (maxAge !== undefined) {
      if (!/^\d{1,9}$/.test(maxAge)) throw new S3Error('MalformedXML', 'MaxAgeSeconds must be a non-negative integer.');
      rule.maxAge = Number(maxAge);
    }
    return rule;
  });
}

export function corsToXmlBody(rules: CorsRule[]) {
  return {
    CORSRule: rules.map((r) => ({
      ...(r.id !== undefined ? { ID: r.id } : {}),
      AllowedOrigin: r.origins,
      AllowedMethod: r.methods,
      ...(r.headers.length ? { AllowedHeader: r.headers } : {}),
      ...(r.expose.length ? { ExposeHeader: r.expose } : {}),
      ...(r.maxAge !== undefined ? { MaxAgeSeconds: r.maxAge } : {}),
    })),
  };
}

function findRule(rules: CorsRule[], origin: string, method: string, requestHeaders: string[]): CorsRule | undefined {
  return rules.find(
    (r) =>
      r.origins.some((o) => wildcardMatch(o, origin)) &&
      r.methods.includes(method) &&
      requestHeaders.every((hd) => r.headers.some((p) => wildcardMatch(p.toLowerCase(), hd))),
  );
}

/** Headers for an actual (non-preflight) request: only when Origin is present and a rule matches. */
export function corsForRequest(rules: CorsRule[] | null, headers: IncomingHttpHeaders, method: string): Record<string, string> {
  const origin = headers.origin;
  if (!rules || !origin) return {};
  const rule = findRule(rules, origin, method === 'HEAD' ? 'HEAD' : method, []);
  if (!rule) return {};
  const out: Record<string, string> = {
    'access-control-allow-origin': origin,
    'access-control-allow-methods': rule.methods.join(', '),
    vary: 'Origin',
  };
  if (rule.expose.length) out['access-control-expose-headers'] = rule.expose.join(', ');
  return out;
}

/** Answers a preflight; throws 400 without Origin and 403 when no rule allows the request. */
export function preflight(rules: CorsRule[] | null, headers: IncomingHttpHeaders): Record<string, string> {
  const origin = headers.origin;
  const method = headers['access-control-request-method'];
  if (!origin) throw new S3Error('InvalidRequest', 'Insufficient information. Origin request header needed.');
  if (!method) throw new S3Error('InvalidRequest', 'Invalid Access-Control-Request-Method: null');
  const requested = (headers['access-control-request-headers'] ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  const rule = rules && findRule(rules, origin, method, requested);
  if (!rule) throw new S3Error('AccessForbidden');
  const out: Record<string, string> = {
    'access-control-allow-origin': origin,
    'access-control-allow-methods': rule.methods.join(', '),
    vary: 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method',
  };
  if (requested.length) out['access-control-allow-headers'] = requested.join(', ');
  if (rule.expose.length) out['access-control-expose-headers'] = rule.expose.join(', ');
  if (rule.maxAge !== undefined) out['access-control-max-age'] = String(rule.maxAge);
  return out;
}
