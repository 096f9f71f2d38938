// A throwaway self-signed certificate for the bench's HTTPS edge, and what clients need to trust
// exactly it: the PEM (Node: NODE_EXTRA_CA_CERTS) and the SPKI pin (Chromium:
// --ignore-certificate-errors-spki-list accepts this one key, not any bad certificate).
import { createHash, X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { generate } from 'selfsigned';

export interface BenchCert {
  key: string;
  cert: string;
  certFile: string;
  keyFile: string;
  /** base64 SHA-256 of the certificate's SubjectPublicKeyInfo */
  spki: string;
}

export async function makeBenchCert(dir: string, ips: string[]): Promise<BenchCert> {
  const pems = await generate([{ name: 'commonName', value: 'chute-bench-edge' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + 2 * 86_400_000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, ...ips.map((ip) => ({ type: 7 as const, ip }))] },
    ],
  });
  const certFile = path.join(dir, 'edge-cert.pem');
  const keyFile = path.join(dir, 'edge-key.pem');
  writeFileSync(certFile, pems.cert);
  writeFileSync(keyFile, pems.private, { mode: 0o600 });
  const spkiDer = new X509Certificate(pems.cert).publicKey.export({ type: 'spki', format: 'der' });
  return { key: pems.private, cert: pems.cert, certFile, keyFile, spki: createHash('sha256').update(spkiDer).digest('base64') };
}
