<?php
/**
 * PDO_MySQL, the way the PHP manual's PDO pages show it: new PDO('mysql:host=..;port=..;dbname=..', $user, $pass)
 * with PDO::ERRMODE_EXCEPTION (the manual's recommended error mode, PHP 8's default), prepare()/execute() for
 * statements with parameters, query()/exec() for plain SQL, PDO::lastInsertId() for the insert id, and
 * beginTransaction()/rollBack()/commit() with the manual's try/catch-rollBack pattern. Everything else is the
 * driver's default (emulated prepares, autocommit on). Workloads `rw` and `readonly` (test/drivers/CONTRACT.md).
 */

declare(strict_types=1);

require __DIR__ . '/matrix.php';

$m = new Matrix(['rw', 'readonly']);

$connect = fn () => new PDO(
    "mysql:host={$m->host};port={$m->port};dbname={$m->database}",
    $m->user,
    $m->password,
    [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION],
);

$broken = function (PDO $pdo): bool {
    try {
        $pdo->query('SELECT 1');
        return false;
    } catch (PDOException $e) {
        return true;
    }
};

/** One statement in a transaction, rolled back or committed. */
function update(PDO $pdo, string $sql, int $id, bool $commit): void
{
    try {
        $pdo->beginTransaction();
        $pdo->prepare($sql)->execute([$id]);
        $commit ? $pdo->commit() : $pdo->rollBack();
    } catch (Throwable $e) {
        if ($pdo->inTransaction()) {
            $pdo->rollBack();
        }
        throw $e;
    }
}

function fetchRow(PDO $pdo, string $sql, int $id): array|false
{
    $stmt = $pdo->prepare($sql);
    $stmt->execute([$id]);
    return $stmt->fetch(PDO::FETCH_ASSOC);
}

function checkV(Matrix $m, PDO $pdo, string $check, int $id, int $want): void
{
    $row = fetchRow($pdo, 'SELECT v FROM drv_item WHERE id = ?', $id);
    $m->check($check, $row !== false && (int) $row['v'] === $want, $row === false ? "row $id not found" : "expected v $want, got {$row['v']}");
}

$rw = function (PDO $pdo, int $n) use ($m): void {
    // 1. insert, id from PDO::lastInsertId()
    $pdo->prepare('INSERT INTO drv_item (owner, n, v) VALUES (?, ?, 0)')->execute([$m->owner, $n]);
    $id = (int) $pdo->lastInsertId();
    $m->check('insert_id', $id > 0, "expected > 0, got $id");

    // 2. LAST_INSERT_ID() through a plain query
    $got = (int) $pdo->query('SELECT LAST_INSERT_ID() AS id')->fetch(PDO::FETCH_ASSOC)['id'];
    $m->check('last_insert_id', $got === $id, "expected $id, got $got");

    // 3. LAST_INSERT_ID() inside a statement
    $pdo->exec('INSERT INTO drv_child (parent_id) VALUES (LAST_INSERT_ID())');
    $childId = (int) $pdo->lastInsertId();
    $row = fetchRow($pdo, 'SELECT parent_id FROM drv_child WHERE id = ?', $childId);
    $m->check('last_insert_id_in_statement', $row !== false && (int) $row['parent_id'] === $id,
        $row === false ? "child $childId not found" : "expected parent_id $id, got {$row['parent_id']}");

    // 4. read your writes
    $row = fetchRow($pdo, 'SELECT owner, n FROM drv_item WHERE id = ?', $id);
    $m->check('read_your_writes', $row !== false && $row['owner'] === $m->owner && (int) $row['n'] === $n,
        $row === false ? "row $id not found" : "expected ({$m->owner}, $n), got ({$row['owner']}, {$row['n']})");

    // 5. a transaction rolled back
    update($pdo, 'UPDATE drv_item SET v = v + 1 WHERE id = ?', $id, false);
    checkV($m, $pdo, 'rollback', $id, 0);

    // 6. a transaction committed
    update($pdo, 'UPDATE drv_item SET v = v + 10 WHERE id = ?', $id, true);
    checkV($m, $pdo, 'commit', $id, 10);
};

$readonly = function (PDO $pdo, int $n) use ($m): void {
    $id = random_int(1, 100);
    $stmt = $pdo->prepare('SELECT label FROM drv_seed WHERE id = ?');
    $stmt->execute([$id]);
    $label = $stmt->fetchColumn();
    $m->check('read', $label === "seed-$id", "expected seed-$id, got " . var_export($label, true));
};

$m->run('pdo-mysql', $connect, $m->workload === 'rw' ? $rw : $readonly, $broken);
