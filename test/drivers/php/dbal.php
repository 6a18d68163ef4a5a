<?php
/**
 * Doctrine DBAL 3, the way its documentation shows it: DriverManager::getConnection() with the connection
 * parameters and driver pdo_mysql (it connects lazily, on the first statement; `connected` counts that),
 * $conn->insert() + lastInsertId() for the insert, fetchAssociative() for rows, executeQuery()/executeStatement()
 * for raw SQL, and beginTransaction()/rollBack()/commit() with the documentation's try/catch-rollBack pattern.
 * Workload `rw` (test/drivers/CONTRACT.md).
 */

declare(strict_types=1);

require 'Doctrine/DBAL/autoload.php';
require __DIR__ . '/matrix.php';

use Doctrine\DBAL\Connection;
use Doctrine\DBAL\DriverManager;

$m = new Matrix(['rw']);

$connect = fn () => DriverManager::getConnection([
    'dbname' => $m->database,
    'user' => $m->user,
    'password' => $m->password,
    'host' => $m->host,
    'port' => $m->port,
    'driver' => 'pdo_mysql',
]);

$broken = function (Connection $conn): bool {
    try {
        $conn->executeQuery('SELECT 1');
        return false;
    } catch (Doctrine\DBAL\Exception $e) {
        $conn->close();
        return true;
    }
};

/** One statement in a transaction, rolled back or committed. */
function update(Connection $conn, string $sql, int $id, bool $commit): void
{
    $conn->beginTransaction();
    try {
        $conn->executeStatement($sql, [$id]);
        $commit ? $conn->commit() : $conn->rollBack();
    } catch (Throwable $e) {
        if ($conn->isTransactionActive()) {
            $conn->rollBack();
        }
        throw $e;
    }
}

function checkV(Matrix $m, Connection $conn, string $check, int $id, int $want): void
{
    $row = $conn->fetchAssociative('SELECT v FROM drv_item WHERE id = ?', [$id]);
    $m->check($check, $row !== false && (int) $row['v'] === $want, $row === false ? "row $id not found" : "expected v $want, got {$row['v']}");
}

$rw = function (Connection $conn, int $n) use ($m): void {
    // 1. insert, id from Connection::lastInsertId()
    $conn->insert('drv_item', ['owner' => $m->owner, 'n' => $n, 'v' => 0]);
    $id = (int) $conn->lastInsertId();
    $m->check('insert_id', $id > 0, "expected > 0, got $id");

    // 2. LAST_INSERT_ID() through raw SQL
    $got = (int) $conn->executeQuery('SELECT LAST_INSERT_ID() AS id')->fetchAssociative()['id'];
    $m->check('last_insert_id', $got === $id, "expected $id, got $got");

    // 3. LAST_INSERT_ID() inside a statement
    $conn->executeStatement('INSERT INTO drv_child (parent_id) VALUES (LAST_INSERT_ID())');
    $childId = (int) $conn->lastInsertId();
    $row = $conn->fetchAssociative('SELECT parent_id FROM drv_child WHERE id = ?', [$childId]);
    $m->check('last_insert_id_in_statement', $row !== false && (int) $row['parent_id'] === $id,
        $row === false ? "child $childId not found" : "expected parent_id $id, got {$row['parent_id']}");

    // 4. read your writes
    $row = $conn->fetchAssociative('SELECT owner, n FROM drv_item WHERE id = ?', [$id]);
    $m->check('read_your_writes', $row !== false && $row['owner'] === $m->owner && (int) $row['n'] === $n,
        $row === false ? "row $id not found" : "expected ({$m->owner}, $n), got ({$row['owner']}, {$row['n']})");

    // 5. a transaction rolled back
    update($conn, 'UPDATE drv_item SET v = v + 1 WHERE id = ?', $id, false);
    checkV($m, $conn, 'rollback', $id, 0);

    // 6. a transaction committed
    update($conn, 'UPDATE drv_item SET v = v + 10 WHERE id = ?', $id, true);
    checkV($m, $conn, 'commit', $id, 10);
};

$m->run('doctrine-dbal', $connect, $rw, $broken, fn (Connection $conn) => $conn->isConnected());
