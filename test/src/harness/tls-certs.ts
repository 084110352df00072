/** A throwaway CA and a server certificate it signed, made with the machine's openssl, for TLS tests. */
import { execFile } from 'node:child_process';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestCerts {
  /** The CA certificate that signed `cert`. */
  ca: string;
  /** A second CA, which signed nothing here: a client that trusts it only refuses the server. */
  otherCa: string;
  /** The server certificate, for IP 127.0.0.1 and DNS localhost. */
  cert: string;
  /** Its private key, mode 0600. */
  key: string;
}

async function newCa(dir: string, name: string): Promise<{ pem: string; key: string }> {
  const pem = join(dir, `${name}.pem`);
  const key = join(dir, `${name}.key`);
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    key,
    '-out',
    pem,
    '-days',
    '2',
    '-subj',
    `/CN=${name}`,
  ]);
  return { pem, key };
}

/** Makes the certificates in `dir`. */
export async function makeCerts(dir: string): Promise<TestCerts> {
  const ca = await newCa(dir, 'cedana-test-ca');
  const other = await newCa(dir, 'cedana-other-ca');
  const key = join(dir, 'server.key');
  const csr = join(dir, 'server.csr');
  const cert = join(dir, 'server.pem');
  const ext = join(dir, 'server.ext');
  await run('openssl', [
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    key,
    '-out',
    csr,
    '-subj',
    '/CN=cedana-test',
  ]);
  await writeFile(ext, 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  await run('openssl', [
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    ca.pem,
    '-CAkey',
    ca.key,
    '-CAcreateserial',
    '-out',
    cert,
    '-days',
    '2',
    '-extfile',
    ext,
  ]);
  await chmod(key, 0o600);
  return { ca: ca.pem, otherCa: other.pem, cert, key };
}
