// Public API of the serverless-proxysql construct library.
export * from './constants';
export * from './proxysql-service';
export * from './proxysql-monitoring';
export * from './proxysql-backend';
export * from './database-bootstrap';
export * from './demo-api';
export { LAMBDA_RUNTIME, LAMBDA_ARCHITECTURE } from './lambda-runtime';
export * as proxysqlConfig from './config';
export type { QueryRuleSpec, QueryDestination, MultiplexMode } from './config/query-rules';
export type { ReplicationCheckType } from './config/model';
