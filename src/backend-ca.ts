import { Annotations, Stack, Token } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { DEFAULT_BACKEND_TLS } from './constants';
import { BACKEND_TLS_UNVERIFIED, rdsCaBundle, rdsRegionOf } from './config/rds-ca';
import { caBundleProblem } from './config/rules';
import { checkProp } from './prop-rules';
import { ProxySqlBackendConfig } from './proxysql-backend';
import { ProxySqlServiceProps } from './proxysql-service-props';

/** The CA bundle ProxySQL verifies the database with, or undefined (with a warning) when none is known. */
export function resolveBackendCa(scope: Construct, props: ProxySqlServiceProps, backend: ProxySqlBackendConfig): string | undefined {
  const tls = props.backendTls ?? DEFAULT_BACKEND_TLS;
  if (props.backendCa !== undefined) {
    checkProp('ProxySqlServiceProps.backendCa', props.backendCa, (ca) => caBundleProblem(ca, tls));
    return Token.isUnresolved(props.backendCa) ? props.backendCa : props.backendCa.trim();
  }
  if (!tls) return undefined;
  // The region in the servers' names when CloudFormation does not resolve them at deploy time, else the stack's.
  const stackRegion = Stack.of(scope).region;
  const region = rdsRegionOf(backend.spec) ?? (backend.rdsManaged && !Token.isUnresolved(stackRegion) ? stackRegion : undefined);
  const ca = region === undefined ? undefined : rdsCaBundle(region);
  if (ca === undefined) {
    Annotations.of(scope).addWarningV2(
      BACKEND_TLS_UNVERIFIED,
      backend.rdsManaged
        ? "TLS to the database is encrypted but not authenticated: the stack's region is not known at synth, so the RDS CAs cannot be chosen; give the stack a region (env: { region }, e.g. process.env.CDK_DEFAULT_REGION, which cdk deploy sets) or set backendCa."
        : 'TLS to the database is encrypted but not authenticated: set backendCa to the CA that signs its certificates.',
    );
  }
  return ca;
}
