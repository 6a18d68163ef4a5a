<?php
/**
 * mysqli, the way the PHP manual shows it: mysqli_report(MYSQLI_REPORT_ERROR | MYSQLI_REPORT_STRICT) so errors
 * throw mysqli_sql_exception, new mysqli($host, $user, $password, $database, $port), prepare()/bind_param()/
 * execute()/get_result() for statements with parameters, query() for plain SQL, insert_id for the insert id, and
 * begin_transaction()/rollback()/commit() with the manual's try/catch-rollback pattern. Everything else is the
 * driver's default. Workloads `rw` and `readonly` (test/drivers/CONTRACT.md).
 */

declare(strict_types=1);

require __DIR__ . '/matrix.php';

$m = new Matrix(['rw', 'readonly']);

mysqli_report(MYSQLI_REPORT_ERROR | MYSQLI_REPORT_STRICT);

$connect = fn () => new mysqli($m->host, $m->user, $m->password, $m->database, $m->port);

$broken = function (mysqli $mysqli): bool {
    try {
        $mysqli->query('SELECT 1');
        return false;
    } catch (mysqli_sql_exception $e) {
        return true;
    }
};

/** Runs a statement with one integer parameter and returns its first row (null when there is none). */
function fetchRow(mysqli $mysqli, string $sql, int $id): ?array
{
    $stmt = $mysqli->prepare($sql);
    $stmt->bind_param('i', $id);
    $stmt->execute();
    return $stmt->get_result()->fetch_assoc();
}

/** One statement in a transaction, rolled back or committed. */
function update(mysqli $mysqli, string $sql, int $id, bool $commit): void
{
    $mysqli->begin_transaction();
    try {
        $stmt = $mysqli->prepare($sql);
        $stmt->bind_param('i', $id);
        $stmt->execute();
        $commit ? $mysqli->commit() : $mysqli->rollback();
    } catch (mysqli_sql_exception $e) {
        $mysqli->rollback();
        throw $e;
    }
}

function checkV(Matrix $m, mysqli $mysqli, string $check, int $id, int $want): void
{
    $row = fetchRow($mysqli, 'SELECT v FROM drv_item WHERE id = ?', $id);
    $m->check($check, $row !== null && (int) $row['v'] === $want, $row === null ? "row $id not found" : "expected v $want, got {$row['v']}");
}

$rw = function (mysqli $mysqli, int $n) use ($m): void {
    // 1. insert, id from mysqli_stmt::$insert_id
    $stmt = $mysqli->prepare('INSERT INTO drv_item (owner, n, v) VALUES (?, ?, 0)');
    $stmt->bind_param('si', $m->owner, $n);
    $stmt->execute();
    $id = (int) $stmt->insert_id;
    $m->check('insert_id', $id > 0, "expected > 0, got $id");

    // 2. LAST_INSERT_ID() through a plain query
    $got = (int) $mysqli->query('SELECT LAST_INSERT_ID() AS id')->fetch_assoc()['id'];
    $m->check('last_insert_id', $got === $id, "expected $id, got $got");

    // 3. LAST_INSERT_ID() inside a statement
    $mysqli->query('INSERT INTO drv_child (parent_id) VALUES (LAST_INSERT_ID())');
    $childId = (int) $mysqli->insert_id;
    $row = fetchRow($mysqli, 'SELECT parent_id FROM drv_child WHERE id = ?', $childId);
    $m->check('last_insert_id_in_statement', $row !== null && (int) $row['parent_id'] === $id,
        $row === null ? "child $childId not found" : "expected parent_id $id, got {$row['parent_id']}");

    // 4. read your writes
    $row = fetchRow($mysqli, 'SELECT owner, n FROM drv_item WHERE id = ?', $id);
    $m->check('read_your_writes', $row !== null && $row['owner'] === $m->owner && (int) $row['n'] === $n,
        $row === null ? "row $id not found" : "expected ({$m->owner}, $n), got ({$row['owner']}, {$row['n']})");

    // 5. a transaction rolled back
    update($mysqli, 'UPDATE drv_item SET v = v + 1 WHERE id = ?', $id, false);
    checkV($m, $mysqli, 'rollback', $id, 0);

    // 6. a transaction committed
    update($mysqli, 'UPDATE drv_item SET v = v + 10 WHERE id = ?', $id, true);
    checkV($m, $mysqli, 'commit', $id, 10);
};

$readonly = function (mysqli $mysqli, int $n) use ($m): void {
    $id = random_int(1, 100);
    $row = fetchRow($mysqli, 'SELECT label FROM drv_seed WHERE id = ?', $id);
    $label = $row['label'] ?? null;
    $m->check('read', $label === "seed-$id", "expected seed-$id, got " . var_export($label, true));
};

$m->run('mysqli', $connect, $m->workload === 'rw' ? $rw : $readonly, $broken);
