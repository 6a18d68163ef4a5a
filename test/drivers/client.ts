/** How the matrix's runner starts one client program (test/drivers/CONTRACT.md). */
export interface DriverClient {
  /** A short unique name, e.g. 'pymysql', 'sqlalchemy', 'connector-j'. */
  readonly name: string;
  readonly language: 'python' | 'java' | 'go' | 'php' | 'ruby' | 'node';
  readonly kind: 'driver' | 'orm';
  /** The package and version line for the report, e.g. 'python3-pymysql 1.0.2 (Debian)'. */
  readonly packageName: string;
  /** The workloads this client implements. */
  readonly workloads: readonly ('rw' | 'readonly')[];
  /**
   * A build step run once before the client (absolute paths or paths relative to the repository root), e.g. `go
   * build` or `javac` into `buildDir`. @default - none
   */
  readonly build?: (buildDir: string) => { command: string; args: string[]; env?: Record<string, string> };
  /** The command that runs the client; `buildDir` is where the build step wrote its output. */
  readonly run: (buildDir: string) => { command: string; args: string[]; env?: Record<string, string> };
  /**
   * True when one process runs one session only (e.g. PHP): the runner then starts DRV_SESSIONS processes with
   * DRV_SESSIONS=1 and adds up their reports. @default false
   */
  readonly oneSessionPerProcess?: boolean;
}
