<?php
/**
 * What every PHP client of the driver matrix shares (test/drivers/CONTRACT.md): the DRV_* environment, the session
 * loop (iterate, on an exception count it and reconnect when the connection is broken, think), the check and error
 * counters, and the one-line JSON report. PHP has no threads: a process runs one session (the manifest marks these
 * clients oneSessionPerProcess, and the runner starts DRV_SESSIONS processes with DRV_SESSIONS=1).
 */

declare(strict_types=1);

final class Matrix
{
    private const RW_CHECKS = ['insert_id', 'last_insert_id', 'last_insert_id_in_statement', 'read_your_writes', 'rollback', 'commit'];
    private const READONLY_CHECKS = ['read'];

    public string $host;
    public int $port;
    public string $user;
    public string $password;
    public string $database;
    public string $workload;
    /** This session's owner: DRV_OWNER-0 (one session per process). */
    public string $owner;
    private float $durationS;
    private int $thinkUs;

    private int $connected = 0;
    private int $iterations = 0;
    private array $checks = [];
    private array $errors = [];
    private array $firstFailure = [];

    /** @param string[] $workloads the workloads this client implements */
    public function __construct(array $workloads)
    {
        $this->host = self::env('DRV_HOST');
        $this->port = (int) self::env('DRV_PORT');
        $this->user = self::env('DRV_USER');
        $this->password = self::env('DRV_PASSWORD');
        $this->database = self::env('DRV_DATABASE');
        $this->workload = self::env('DRV_WORKLOAD');
        $this->owner = self::env('DRV_OWNER') . '-0';
        $this->durationS = (int) self::env('DRV_DURATION_MS') / 1000;
        $this->thinkUs = (int) self::env('DRV_THINK_MS') * 1000;
        if (self::env('DRV_SESSIONS') !== '1') {
            self::fail('DRV_SESSIONS must be 1: a PHP client runs one session per process');
        }
        if (!in_array($this->workload, $workloads, true)) {
            self::fail("DRV_WORKLOAD: this client does not implement workload {$this->workload}");
        }
        foreach ($this->workload === 'rw' ? self::RW_CHECKS : self::READONLY_CHECKS as $name) {
            $this->checks[$name] = [0, 0];
        }
    }

    private static function env(string $name): string
    {
        $value = getenv($name);
        if ($value === false) {
            self::fail("$name is not set");
        }
        return $value;
    }

    private static function fail(string $message): never
    {
        fwrite(STDERR, $message . "\n");
        exit(2);
    }

    /** Counts one check; returns whether it passed. */
    public function check(string $name, bool $ok, string $failure): bool
    {
        $this->checks[$name][$ok ? 0 : 1]++;
        if (!$ok && !isset($this->firstFailure[$name])) {
            $this->firstFailure[$name] = $failure;
        }
        return $ok;
    }

    /**
     * Runs the session until DRV_DURATION_MS, then prints the report.
     *
     * @param callable(): mixed $connect opens the connection
     * @param callable(mixed, int): void $iterate one iteration on that connection, `n` the iteration number
     * @param callable(mixed): bool $broken after an exception: must the session reconnect?
     * @param (callable(mixed): bool)|null $isConnected for a lazy connection: has it connected yet? (counts `connected`)
     */
    public function run(string $client, callable $connect, callable $iterate, callable $broken, ?callable $isConnected = null): void
    {
        $deadline = microtime(true) + $this->durationS;
        $conn = null;
        $n = 0;
        while (microtime(true) < $deadline) {
            try {
                $conn ??= $connect();
                $this->iterations++;
                $iterate($conn, $n++);
            } catch (Throwable $e) {
                $message = substr($e->getMessage(), 0, 200);
                $this->errors[$message] = ($this->errors[$message] ?? 0) + 1;
                if ($conn !== null && $broken($conn)) {
                    $conn = null;
                }
            } finally {
                if ($conn !== null && ($isConnected === null || $isConnected($conn))) {
                    $this->connected = 1;
                }
            }
            usleep($conn === null ? max($this->thinkUs, 100000) : $this->thinkUs);
        }
        echo json_encode([
            'client' => $client,
            'sessions' => 1,
            'connected' => $this->connected,
            'iterations' => $this->iterations,
            'checks' => (object) $this->checks,
            'errors' => (object) $this->errors,
            'firstFailure' => (object) $this->firstFailure,
        ], JSON_INVALID_UTF8_SUBSTITUTE | JSON_UNESCAPED_SLASHES), "\n";
    }
}
