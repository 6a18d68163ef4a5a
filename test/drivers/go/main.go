// go-sql-driver/mysql through database/sql, the way the driver's README shows it: sql.Open("mysql",
// "user:password@tcp(host:port)/dbname") with no DSN parameter (the driver's defaults), the README's "Important
// settings" on the *sql.DB, Exec + Result.LastInsertId() for the insert id, QueryRow for reads, and db.Begin() /
// tx.Rollback() / tx.Commit() for transactions.
//
// A session models one Lambda instance, which serves one request at a time: the program opens one *sql.DB at init
// and keeps it across invocations, with SetMaxOpenConns(1) (and SetMaxIdleConns equal to it, as the README asks).
// So each session (goroutine) has its own *sql.DB holding one connection; a shared pool would hand one session's
// statements to several connections, which no Lambda does. Workloads `rw` and `readonly` (test/drivers/CONTRACT.md).
package main

import (
	"database/sql"
	"fmt"
	"math/rand"
	"time"

	_ "github.com/go-sql-driver/mysql"
)

type session struct {
	m     *Matrix
	db    *sql.DB
	owner string
}

func main() {
	rand.Seed(time.Now().UnixNano())
	m := NewMatrix()
	dsn := fmt.Sprintf("%s:%s@tcp(%s:%d)/%s", m.User, m.Password, m.Host, m.Port, m.Database)
	m.Run("go-sql-driver", func(owner string) (Session, error) {
		db, err := sql.Open("mysql", dsn)
		if err != nil {
			return nil, err
		}
		// The README's "Important settings", sized for a program that runs one request at a time.
		db.SetConnMaxLifetime(time.Minute * 3)
		db.SetMaxOpenConns(1)
		db.SetMaxIdleConns(1)
		if err := db.Ping(); err != nil {
			db.Close()
			return nil, err
		}
		return &session{m: m, db: db, owner: owner}, nil
	})
}

func (s *session) Close() error { return s.db.Close() }

func (s *session) Iterate(n int) error {
	if s.m.Workload == "readonly" {
		return s.read()
	}
	return s.readWrite(n)
}

func (s *session) read() error {
	id := rand.Intn(100) + 1
	var label string
	if err := s.db.QueryRow("SELECT label FROM drv_seed WHERE id = ?", id).Scan(&label); err != nil {
		return err
	}
	s.m.Check("read", label == fmt.Sprintf("seed-%d", id), "expected seed-%d, got %s", id, label)
	return nil
}

func (s *session) readWrite(n int) error {
	m, db := s.m, s.db

	// 1. insert, id from Result.LastInsertId()
	res, err := db.Exec("INSERT INTO drv_item (owner, n, v) VALUES (?, ?, 0)", s.owner, n)
	if err != nil {
		return err
	}
	id, err := res.LastInsertId()
	if err != nil {
		return err
	}
	m.Check("insert_id", id > 0, "expected > 0, got %d", id)

	// 2. LAST_INSERT_ID() through a plain query
	var got int64
	if err := db.QueryRow("SELECT LAST_INSERT_ID() AS id").Scan(&got); err != nil {
		return err
	}
	m.Check("last_insert_id", got == id, "expected %d, got %d", id, got)

	// 3. LAST_INSERT_ID() inside a statement
	res, err = db.Exec("INSERT INTO drv_child (parent_id) VALUES (LAST_INSERT_ID())")
	if err != nil {
		return err
	}
	childID, err := res.LastInsertId()
	if err != nil {
		return err
	}
	var parentID int64
	err = db.QueryRow("SELECT parent_id FROM drv_child WHERE id = ?", childID).Scan(&parentID)
	if err == sql.ErrNoRows {
		m.Check("last_insert_id_in_statement", false, "child %d not found", childID)
	} else if err != nil {
		return err
	} else {
		m.Check("last_insert_id_in_statement", parentID == id, "expected parent_id %d, got %d", id, parentID)
	}

	// 4. read your writes
	var owner string
	var gotN int
	err = db.QueryRow("SELECT owner, n FROM drv_item WHERE id = ?", id).Scan(&owner, &gotN)
	if err == sql.ErrNoRows {
		m.Check("read_your_writes", false, "row %d not found", id)
	} else if err != nil {
		return err
	} else {
		m.Check("read_your_writes", owner == s.owner && gotN == n, "expected (%s, %d), got (%s, %d)", s.owner, n, owner, gotN)
	}

	// 5. a transaction rolled back, 6. a transaction committed
	if err := s.update("UPDATE drv_item SET v = v + 1 WHERE id = ?", id, false); err != nil {
		return err
	}
	if err := s.checkV("rollback", id, 0); err != nil {
		return err
	}
	if err := s.update("UPDATE drv_item SET v = v + 10 WHERE id = ?", id, true); err != nil {
		return err
	}
	return s.checkV("commit", id, 10)
}

// update runs one statement in a transaction, as database/sql's documentation shows: Begin, Exec on the Tx, then
// Commit or Rollback (Rollback also when the statement fails).
func (s *session) update(query string, id int64, commit bool) error {
	tx, err := s.db.Begin()
	if err != nil {
		return err
	}
	if _, err := tx.Exec(query, id); err != nil {
		tx.Rollback()
		return err
	}
	if commit {
		return tx.Commit()
	}
	return tx.Rollback()
}

func (s *session) checkV(check string, id int64, want int) error {
	var v int
	err := s.db.QueryRow("SELECT v FROM drv_item WHERE id = ?", id).Scan(&v)
	if err == sql.ErrNoRows {
		s.m.Check(check, false, "row %d not found", id)
		return nil
	}
	if err != nil {
		return err
	}
	s.m.Check(check, v == want, "expected v %d, got %d", want, v)
	return nil
}
