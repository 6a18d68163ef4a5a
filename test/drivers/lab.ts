/**
 * A developer's lab for writing a driver client: a real ProxySQL (PROXYSQL_BIN) running the project's render in
 * front of a TLS primary + a replica one second behind, with the matrix's tables. Prints the DRV_* environment for
 * the proxy and for the primary directly (a client must pass every check there), then runs until SIGTERM/SIGINT.
 *
 *   PROXYSQL_BIN=/path/to/proxysql npx tsx test/drivers/lab.ts > /tmp/lab.env
 */
import { startDriverLab } from './schema';

async function main(): Promise<void> {
  const lab = await startDriverLab({ replicaDelaySeconds: Number(process.env.DRV_REPLICA_DELAY_S ?? 1) });
  const common = `DRV_USER=${lab.proxy.user} DRV_PASSWORD=${lab.proxy.password} DRV_DATABASE=${lab.proxy.database}`;
  console.log(`# through ProxySQL:\nexport DRV_HOST=127.0.0.1 DRV_PORT=${lab.proxy.port} ${common}`);
  console.log(`# the primary directly (the app user needs TLS there; use root): DRV_HOST=127.0.0.1 DRV_PORT=${lab.topology.primary.port} DRV_USER=root DRV_PASSWORD=${lab.topology.primary.rootPassword}`);
  console.log(`# ProxySQL admin: 127.0.0.1:${lab.proxy.adminPort} user admin password ${lab.proxy.adminPassword}; log ${lab.proxy.logFile}`);
  const stop = async () => {
    await lab.stop();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  setInterval(() => undefined, 60_000);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
