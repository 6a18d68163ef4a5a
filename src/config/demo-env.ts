/**
 * The environment variables the DemoApi construct sets on the function and the handler reads. Kept free of
 * imports so the construct can use them without loading the handler's runtime dependencies.
 */
export const DEMO_ENV = {
  host: 'DB_HOST',
  port: 'DB_PORT',
  database: 'DB_NAME',
  secretArn: 'DB_SECRET_ARN',
} as const;
