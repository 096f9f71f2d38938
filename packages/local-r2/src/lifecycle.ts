import { S3Error } from './errors.js';
import type { App } from './http/context.js';
import { prefixEnd } from './keys.js';
import { asArray, onlyKeys, parseXml, text } from './xml.js';

export interface LifecycleRule {
  id: string;
  enabled: boolean;
  prefix: string;
  abortDays?: number;
  expireDays?: number;
  expireDate?: string;
  transitions: { days?: number; date?: string; storageClass: string }[];
}

const DAY = 86_400_000;

/** R2 gives every bucket this rule until a configuration replaces it. */
export const DEFAULT_RULES: LifecycleRule[] = [
  { id: 'Default Multipart Abort Rule', enabled: true, prefix: '', abortDays: 7, transitions: [] },
];

export function bucketRules(json: string | null): LifecycleRule[] {
  return json === null ? DEFAULT_RULES : (JSON.parse(json) as LifecycleRule[]);
}

function days(v: unknown, what: string): number {
  const s = text(v);
  if (s === undefined || !/^\d{1,6}$/.test(s) || Number(s) < 1) throw new S3Error('MalformedXML', `${what} must be a positive integer.`);
  return Number(s);
}

function obj(v: unknown): Record<string, unknown> {
  if (v === '' || v === undefined) return {};
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new S3Error('MalformedXML');
  return v as Record<string, unknown>;
}

export function parseLifecycleXml(xml: string): LifecycleRule[] {
  const root = parseXml(xml, 'LifecycleConfiguration');
  onlyKeys(root, ['Rule']);
  const rules = asArray(root.Rule as unknown[] | undefined);
  if (rules.length > 1000) throw new S3Error('MalformedXML', 'A lifecycle configuration has at most 1000 rules.');
  const ids = new Set<string>();
  return rules.map((raw, i) => {
    const r = obj(raw);
    onlyKeys(r, ['ID', 'Status', 'Filter', 'Prefix', 'AbortIncompleteMultipartUpload', 'Expiration', 'Transition']);
    const id = text(r.ID) ?? `rule-${i + 1}`;
    if (id.length > 255 || ids.has(id)) throw new S3Error('InvalidArgument', 'Rule IDs must be unique and at most 255 characters.');
    ids.add(id);
    const status = text(r.Status);
    if (status !== 'Enabled' && status !== 'Disabled') throw new S3Error('MalformedXML', 'Status must be Enabled or Disabled.');
    const filter = obj(r.Filter);
    for (const k of Object.keys(filter))
      if (k !== 'Prefix') throw new S3Error('NotImplemented', `Lifecycle filter '${k}' is not supported; only Prefix is.`);
    const rule: LifecycleRule = {
      id,
      enabled: status === 'Enabled',
      prefix: text(filter.Prefix) ?? text(r.Prefix) ?? '',
      transitions: [],
    };
    if (r.AbortIncompleteMultipartUpload !== undefined) {
      const a = obj(r.AbortIncompleteMultipartUpload);
      onlyKeys(a, ['DaysAfterInitiation']);
      rule.abortDays = days(a.DaysAfterInitiation, 'DaysAfterInitiation');
    }
    if (r.Expiration !== undefined) {
      const e = obj(r.Expiration);
      onlyKeys(e, ['Days', 'Date']);
      if (e.Days !== undefined) rule.expireDays = days(e.Days, 'Expiration Days');
      else if (e.Date !== undefined) {
        const d = text(e.Date) ?? '';
        if (Number.isNaN(Date.parse(d))) throw new S3Error('MalformedXML', 'Expiration Date is not a date.');
        rule.expireDate = d;
      } else throw new S3Error('MalformedXML', 'Expiration needs Days or Date.');
    }
    for (const t of asArray(r.Transition as unknown[] | undefined)) {
      const tr = obj(t);
      onlyKeys(tr, ['Days', 'Date', 'StorageClass']);
      const storageClass = text(tr.StorageClass) ?? '';
      if (storageClass !== 'STANDARD_IA') throw new S3Error('InvalidArgument', 'R2 only transitions to STANDARD_IA.');
      rule.transitions.push({
        ...(tr.Days !== undefined ? { days: days(tr.Days, 'Transition Days') } : {}),
        ...(tr.Date !== undefined ? { date: text(tr.Date) ?? '' } : {}),
        storageClass,
      });
    }
    if (rule.abortDays === undefined && rule.expireDays === undefined && !rule.expireDate && !rule.transitions.length)
      throw new S3Error('MalformedXML', 'A lifecycle rule needs at least one action.');
    return rule;
  });
}

export function lifecycleToXmlBody(rules: LifecycleRule[]) {
  return {
    Rule: rules.map((r) => ({
      ID: r.id,
      Status: r.enabled ? 'Enabled' : 'Disabled',
      Filter: { Prefix: r.prefix },
      ...(r.abortDays !== undefined ? { AbortIncompleteMultipartUpload: { DaysAfterInitiation: r.abortDays } } : {}),
      ...(r.expireDays !== undefined ? { Expiration: { Days: r.expireDays } } : {}),
      ...(r.expireDate !== undefined ? { Expiration: { Date: r.expireDate } } : {}),
      ...(r.transitions.length
        ? {
            Transition: r.transitions.map((t) => ({
              ...(t.days !== undefined ? { Days: t.days } : {}),
              ...(t.date !== undefined ? { Date: t.date } : {}),
              StorageClass: t.storageClass,
            })),
          }
        : {}),
    })),
  };
}

/** The earliest abort that applies to an upload of `key` (the earliest expiry wins, as on R2). */
export function abortFor(rules: LifecycleRule[], key: string, initiated: number): { date: number; ruleId: string } | undefined {
  let best: { date: number; ruleId: string } | undefined;
  for (const r of rules) {
    if (!r.enabled || r.abortDays === undefined || !key.startsWith(r.prefix)) continue;
    const date = initiated + r.abortDays * DAY;
    if (!best || date < best.date) best = { date, ruleId: r.id };
  }
  return best;
}

/** Applies every bucket's rules once: aborts stale multipart uploads, expires objects. */
export async function sweep(app: App): Promise<{ aborted: number; expired: number }> {
  const now = app.now();
  let aborted = 0;
  let expired = 0;
  const files: string[] = [];
  for (const bucket of app.db.listBuckets()) {
    const rules = bucketRules(bucket.lifecycle);
    app.db.tx(() => {
      for (const u of app.db.uploadsOfBucket(bucket.name)) {
        const abort = abortFor(rules, u.key, u.initiated);
        if (abort && abort.date <= now) {
          for (const p of app.db.allParts(u.id)) files.push(p.file);
          app.db.deleteUpload(u.id);
          aborted++;
        }
      }
      for (const r of rules) {
        if (!r.enabled) continue;
        const cutoff =
          r.expireDays !== undefined ? now - r.expireDays * DAY : r.expireDate ? (Date.parse(r.expireDate) <= now ? now : -1) : -1;
        if (cutoff < 0) continue;
        for (const o of app.db.objectsModifiedBefore(bucket.name, r.prefix, prefixEnd(r.prefix), cutoff)) {
          const row = app.db.getObject(o.bucket, o.key);
          if (!row) continue;
          for (const [f] of row.segments) files.push(f);
          app.db.deleteObject(o.bucket, o.key);
          expired++;
        }
      }
    });
  }
  await app.blobs.remove(files);
  return { aborted, expired };
}
