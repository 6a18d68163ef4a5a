// What the Go client of the driver matrix needs besides its driver code (test/drivers/CONTRACT.md): the DRV_*
// environment, one goroutine per session with its loop, the check and error counters, and the JSON report.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"
)

var (
	rwChecks       = []string{"insert_id", "last_insert_id", "last_insert_id_in_statement", "read_your_writes", "rollback", "commit"}
	readonlyChecks = []string{"read"}
)

// Matrix holds the run's settings and its counters.
type Matrix struct {
	Host, User, Password, Database, Workload, Owner string
	Port, Sessions                                  int
	Duration, Think                                 time.Duration

	mu           sync.Mutex
	checkNames   []string
	connected    int
	iterations   int
	checks       map[string]*[2]int
	errors       map[string]int
	firstFailure map[string]string
}

func mustEnv(name string) string {
	value, ok := os.LookupEnv(name)
	if !ok {
		fmt.Fprintf(os.Stderr, "%s is not set\n", name)
		os.Exit(2)
	}
	return value
}

func mustInt(name string) int {
	n, err := strconv.Atoi(mustEnv(name))
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(2)
	}
	return n
}

// NewMatrix reads the DRV_* environment.
func NewMatrix() *Matrix {
	m := &Matrix{
		Host: mustEnv("DRV_HOST"), Port: mustInt("DRV_PORT"), User: mustEnv("DRV_USER"), Password: mustEnv("DRV_PASSWORD"),
		Database: mustEnv("DRV_DATABASE"), Sessions: mustInt("DRV_SESSIONS"), Workload: mustEnv("DRV_WORKLOAD"), Owner: mustEnv("DRV_OWNER"),
		Duration: time.Duration(mustInt("DRV_DURATION_MS")) * time.Millisecond, Think: time.Duration(mustInt("DRV_THINK_MS")) * time.Millisecond,
		checks: map[string]*[2]int{}, errors: map[string]int{}, firstFailure: map[string]string{},
	}
	switch m.Workload {
	case "rw":
		m.checkNames = rwChecks
	case "readonly":
		m.checkNames = readonlyChecks
	default:
		fmt.Fprintf(os.Stderr, "DRV_WORKLOAD: unknown workload %s\n", m.Workload)
		os.Exit(2)
	}
	for _, name := range m.checkNames {
		m.checks[name] = &[2]int{}
	}
	return m
}

// Check counts one check and returns whether it passed.
func (m *Matrix) Check(name string, ok bool, failure string, args ...interface{}) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if ok {
		m.checks[name][0]++
	} else {
		m.checks[name][1]++
		if _, seen := m.firstFailure[name]; !seen {
			m.firstFailure[name] = fmt.Sprintf(failure, args...)
		}
	}
	return ok
}

func (m *Matrix) countError(err error) {
	message := err.Error()
	if len(message) > 200 {
		message = message[:200]
	}
	m.mu.Lock()
	m.errors[message]++
	m.mu.Unlock()
}

// Session is one session's connection: open it with connect, then call iterate until the deadline. An error from
// iterate is counted and the loop goes on (database/sql replaces a broken connection by itself).
type Session interface {
	Iterate(n int) error
	Close() error
}

// Run runs DRV_SESSIONS sessions, one goroutine each, and prints the report.
func (m *Matrix) Run(client string, connect func(owner string) (Session, error)) {
	deadline := time.Now().Add(m.Duration)
	var wg sync.WaitGroup
	for i := 0; i < m.Sessions; i++ {
		wg.Add(1)
		go func(owner string) {
			defer wg.Done()
			var session Session
			for n := 0; time.Now().Before(deadline); {
				if session == nil {
					s, err := connect(owner)
					if err != nil {
						m.countError(err)
						time.Sleep(m.Think + 100*time.Millisecond)
						continue
					}
					session = s
					m.mu.Lock()
					m.connected++
					m.mu.Unlock()
				}
				m.mu.Lock()
				m.iterations++
				m.mu.Unlock()
				if err := session.Iterate(n); err != nil {
					m.countError(err)
				}
				n++
				time.Sleep(m.Think)
			}
			if session != nil {
				session.Close()
			}
		}(fmt.Sprintf("%s-%d", m.Owner, i))
	}
	wg.Wait()

	checks := map[string][2]int{}
	for name, c := range m.checks {
		checks[name] = *c
	}
	report, _ := json.Marshal(map[string]interface{}{
		"client": client, "sessions": m.Sessions, "connected": m.connected, "iterations": m.iterations,
		"checks": checks, "errors": m.errors, "firstFailure": m.firstFailure,
	})
	fmt.Println(string(report))
}
