"""
What every Python client of the driver matrix shares (test/drivers/CONTRACT.md): the DRV_* environment, the check
and error counting, the session threads and the one JSON line of output. The clients hold only their driver's or
ORM's own code.
"""
import json
import os
import random
import re
import sys
import threading
import time


class Matrix:
    def __init__(self, client, workloads):
        env = os.environ
        self.client = client
        self.host = env.get("DRV_HOST", "127.0.0.1")
        self.port = int(env.get("DRV_PORT", "3306"))
        self.user = env["DRV_USER"]
        self.password = env.get("DRV_PASSWORD", "")
        self.database = env["DRV_DATABASE"]
        self.sessions = int(env.get("DRV_SESSIONS", "1"))
        self.duration = int(env.get("DRV_DURATION_MS", "3000")) / 1000.0
        self.think = int(env.get("DRV_THINK_MS", "0")) / 1000.0
        self.workload = env.get("DRV_WORKLOAD", "rw")
        self.owner_prefix = env.get("DRV_OWNER", "drv-%s-%d" % (client, os.getpid()))
        if self.workload not in workloads:
            raise SystemExit("%s: workload %r is not implemented (%s)" % (client, self.workload, ", ".join(workloads)))
        self._lock = threading.Lock()
        self._connected = set()
        self.iterations = 0
        self.checks = {}
        self.errors = {}
        self.first_failure = {}
        self.deadline = 0.0

    # --- counting -------------------------------------------------------------------------------------------

    def connected(self, session):
        """Marks session `session` as having connected (at least once)."""
        with self._lock:
            self._connected.add(session)

    def iteration(self):
        """Counts an iteration begun; False once the session's time is up."""
        if time.monotonic() >= self.deadline:
            return False
        with self._lock:
            self.iterations += 1
        return True

    def running(self):
        return time.monotonic() < self.deadline

    def expect(self, name, expected, got):
        """Check `name` passes when got == expected."""
        return self.check(name, expected == got, "expected %r, got %r" % (expected, got))

    def check(self, name, ok, failure):
        """Counts check `name`; `failure` describes it in firstFailure when it is the first to fail."""
        with self._lock:
            counts = self.checks.setdefault(name, [0, 0])
            counts[0 if ok else 1] += 1
            if not ok and name not in self.first_failure:
                self.first_failure[name] = failure
        return ok

    def error(self, exc):
        message = error_message(exc)
        with self._lock:
            self.errors[message] = self.errors.get(message, 0) + 1

    def pause(self):
        if self.think > 0:
            time.sleep(self.think)

    def random_seed_id(self):
        return random.randint(1, 100)

    def owner(self, session):
        return "%s-%d" % (self.owner_prefix, session)

    # --- running --------------------------------------------------------------------------------------------

    def run(self, connect, iterate, recover, close):
        """
        Runs DRV_SESSIONS sessions, each its own thread, then prints the report and exits 0. A session:
          handle = connect(i)               opens its connection (an ORM: its session), marked connected;
          iterate(handle, i, n)             one iteration of DRV_WORKLOAD, n = 1, 2, ...;
          handle = recover(handle, exc)     after an exception: the handle to go on with, or None when the
                                            connection is broken (the session then connects again);
          close(handle)                     at the end.
        """
        self.deadline = time.monotonic() + self.duration

        def session(i):
            handle, n = None, 0
            while self.running():
                if handle is None:
                    try:
                        handle = connect(i)
                        self.connected(i)
                    except Exception as exc:
                        self.error(exc)
                        time.sleep(max(self.think, 0.1))
                        continue
                if not self.iteration():
                    break
                n += 1
                try:
                    iterate(handle, i, n)
                except Exception as exc:
                    self.error(exc)
                    try:
                        handle = recover(handle, exc)
                    except Exception as again:
                        self.error(again)
                        handle = None
                self.pause()
            if handle is not None:
                try:
                    close(handle)
                except Exception as exc:
                    self.error(exc)

        threads = [threading.Thread(target=session, args=(i,), name="session-%d" % i) for i in range(self.sessions)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        print(json.dumps(self.report()), flush=True)
        sys.exit(0)

    def report(self):
        return {
            "client": self.client,
            "sessions": self.sessions,
            "connected": len(self._connected),
            "iterations": self.iterations,
            "checks": self.checks,
            "errors": self.errors,
            "firstFailure": self.first_failure,
        }


def error_message(exc):
    """An exception as one short line: '(1062) Duplicate entry ...' for a MySQL error, 'Class: message' otherwise."""
    orig = getattr(exc, "orig", None)  # SQLAlchemy wraps the DB-API exception
    if isinstance(orig, BaseException):
        exc = orig
    args = getattr(exc, "args", ())
    if len(args) == 2 and isinstance(args[0], int):
        message = "(%d) %s" % (args[0], args[1])
    else:
        message = "%s: %s" % (type(exc).__name__, exc)
    return re.sub(r"\s+", " ", message).strip()[:200]
