// Can a browser on each app origin upload? A real preflight for a presigned part PUT with Chute's
// headers, then the PUT itself with Origin, to see that ETag is exposed to JavaScript.
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { check, describeError, type ProbeContext } from './context.js';
import { md5Base64 } from './digests.js';

export interface CorsSupport {
  preflight: boolean;
  etagExposed: boolean;
}

const REQUEST_HEADERS = 'content-type,content-md5,x-amz-checksum-crc64nvme';

export async function probeCors(ctx: ProbeContext, origin: string): Promise<CorsSupport> {
  const key = `${ctx.prefix}cors-${ctx.objects.size}`;
  const body = new TextEncoder().encode('chute doctor cors');
  const out: CorsSupport = { preflight: false, etagExposed: false };
  const label = `CORS for ${origin}`;
  try {
    const url = await getSignedUrl(
      ctx.client,
      new PutObjectCommand({ Bucket: ctx.bucket, Key: key, ContentType: 'text/plain', ContentMD5: md5Base64(body) }),
      { expiresIn: 300, signableHeaders: new Set(['content-type', 'content-md5']) },
    );
    const pre = await fetch(url, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'PUT', 'access-control-request-headers': REQUEST_HEADERS } });
    await pre.arrayBuffer();
    const allowed = pre.headers.get('access-control-allow-origin');
    out.preflight = pre.ok && (allowed === origin || allowed === '*');
    if (!out.preflight) {
      check(ctx, `cors-${origin}`, label, 'fail', `the preflight for a PUT with ${REQUEST_HEADERS} answered ${pre.status}${allowed ? ` for ${allowed}` : ' without Access-Control-Allow-Origin'}: run \`chute-server setup --origin ${origin}\``);
      return out;
    }
    ctx.objects.add(key);
    const put = await fetch(url, { method: 'PUT', headers: { origin, 'content-type': 'text/plain', 'content-md5': md5Base64(body) }, body });
    await put.arrayBuffer();
    const exposed = (put.headers.get('access-control-expose-headers') ?? '').split(',').map((h) => h.trim().toLowerCase());
    out.etagExposed = put.ok && (exposed.includes('etag') || exposed.includes('*'));
    check(ctx, `cors-${origin}`, label, out.etagExposed ? 'ok' : 'fail', out.etagExposed ? 'preflight answered, ETag exposed' : `preflight answered, but ETag is not exposed (PUT ${put.status}): multipart uploads cannot read part ETags`);
  } catch (err) {
    check(ctx, `cors-${origin}`, label, 'fail', describeError(err));
  }
  return out;
}
