// Public API of the serverless-proxysql construct library: constructs, their props and the enums those use.
// Named, not `export *`: everything listed here is compiled by jsii for Python (and the other jsii languages);
// the config model (src/config) and the constants stay internal, used by the CLI and the runtime code.
export { ProxySqlService } from './proxysql-service';
export type { ProxySqlServiceProps, ProxySqlUser, ProxySqlDnsName, ProxySqlAutoScaling } from './proxysql-service';
export { ProxySqlBackend } from './proxysql-backend';
export type { AuroraClusterBackendOptions, EndpointsBackendOptions, MySqlEndpoint } from './proxysql-backend';
export { DatabaseBootstrap } from './database-bootstrap';
export type { DatabaseBootstrapProps, BootstrapApplicationUser, BootstrapEndpoint } from './database-bootstrap';
export { DemoApi, DemoApiAuthorization } from './demo-api';
export type { DemoApiProps } from './demo-api';
export { QueryDestination, MultiplexMode } from './config/query-rules';
export { ReadConsistency } from './config/session-state';
export type { QueryRuleSpec } from './config/query-rules';
export { ReplicationCheckType } from './config/model';
export { ProxySqlMonitoring } from './proxysql-monitoring';
export type { ProxySqlAlarmThresholds, ProxySqlMonitoringOptions, ProxySqlServiceMonitoringOptions, ProxySqlMonitoringProps } from './proxysql-monitoring';
