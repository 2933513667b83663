/**
 * A self-signed certificate made at test time with the openssl command line (Debian package `openssl`): node:crypto
 * can make keys but not X.509 certificates. The certificate is its own CA, so a test trusts it by naming its file in
 * feed.caFile — the configuration option IT uses for a company CA — never by switching verification off.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface TestCertificate {
  key: string;
  cert: string;
  certFile: string;
}

/** `subjectAltName` e.g. "IP:127.0.0.1" — the names the certificate is valid for. */
export function selfSignedCertificate(dir: string, name: string, subjectAltName: string): TestCertificate {
  const keyFile = path.join(dir, `${name}.key`);
  const certFile = path.join(dir, `${name}.pem`);
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', `/CN=${name}`, '-addext', `subjectAltName=${subjectAltName}`, '-addext', 'basicConstraints=critical,CA:TRUE']);
  if (r.error || r.status !== 0) throw new Error(`openssl could not make a test certificate (apt-get install -y openssl): ${r.error?.message ?? r.stderr}`);
  return { key: fs.readFileSync(keyFile, 'utf8'), cert: fs.readFileSync(certFile, 'utf8'), certFile };
}
