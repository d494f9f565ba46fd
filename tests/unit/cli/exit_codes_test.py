#!/usr/bin/env python3
"""Every configuration error exits 2 with a one-line message naming what is
wrong (docs/exit-codes.md), run against the real binary: a bad --rules,
--site-tables, --ca-file or --listen, a bad --config, an unknown option, an
--input that is too large, not JSON or holds two Patients (or subjects of
two and no Patient), and a sync state file in a missing directory, held by
another sync or written for another server or shard.

Usage: exit_codes_test.py MST_ADAPTER
"""
import fcntl
import os
import subprocess
import sys
import tempfile
import time
import unittest

ADAPTER = None
SOURCE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
FIXTURE = os.path.join(SOURCE, "tests", "fixtures", "patients", "mst-p01.json")
# Nothing listens there: a sync that got as far as the server would fail with 3.
NOWHERE = "http://127.0.0.1:9/fhir"


def adapter(*args, timeout=60):
    return subprocess.run([ADAPTER, *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "MST_SERVER_RETRY_MAX_ATTEMPTS": "1"})


class ConfigurationErrorsExit2(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def file(self, name, content):
        path = os.path.join(self.dir, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(content)
        return path

    def assert_exit_2(self, args, *words, timeout=60):
        p = adapter(*args, timeout=timeout)
        self.assertEqual(p.returncode, 2, f"{args}: {p.stderr}")
        lines = p.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, f"{args}: not one line: {p.stderr}")
        self.assertNotIn("internal error", p.stderr)
        for w in words:
            self.assertIn(w, lines[0], args)
        return lines[0]

    def test_bad_rules(self):
        self.assert_exit_2(["run", "--input", FIXTURE, "--rules", "/nonexistent/rules.json"],
                           "/nonexistent/rules.json")
        bad = self.file("rules.json", '{"x":')
        self.assert_exit_2(["run", "--input", FIXTURE, "--rules", bad], "malformed JSON")

    def test_bad_site_tables(self):
        self.assert_exit_2(["run", "--input", FIXTURE, "--site-tables", "/nonexistent/site"],
                           "/nonexistent/site")
        bad = self.file("site/cancer-types.json", "{")
        self.assert_exit_2(["run", "--input", FIXTURE, "--site-tables", os.path.dirname(bad)],
                           "malformed JSON")

    def test_unreadable_ca_file(self):
        self.assert_exit_2(["check", "--server", "https://127.0.0.1:9/fhir", "--ca-file",
                            "/nonexistent/ca.pem"], "/nonexistent/ca.pem")

    def test_bad_listen(self):
        for listen in ("bogus", "127.0.0.1:99999"):
            self.assert_exit_2(["sync", "--once", "--server", NOWHERE, "--state",
                                os.path.join(self.dir, "s.db"), "--listen", listen],
                               "service.listen", listen)

    def test_unknown_option_and_command(self):
        self.assert_exit_2(["run", "--frobnicate"], "--frobnicate")
        self.assert_exit_2(["frobnicate"], "frobnicate")

    def test_bad_config_file(self):
        self.assert_exit_2(["run", "--input", FIXTURE, "--config", "/nonexistent/a.json"],
                           "/nonexistent/a.json")
        bad = self.file("bad.json", '{"adapter":')
        self.assert_exit_2(["run", "--input", FIXTURE, "--config", bad], bad, "malformed JSON")
        unknown = self.file("unknown.json", '{"adapter":{"nope":1}}')
        self.assert_exit_2(["run", "--input", FIXTURE, "--config", unknown], "adapter.nope")

    def test_two_patients_in_input(self):
        two = self.file("two.json", '{"resourceType":"Bundle","type":"collection","entry":['
                        '{"resource":{"resourceType":"Patient","id":"a"}},'
                        '{"resource":{"resourceType":"Patient","id":"b"}}]}')
        self.assert_exit_2(["run", "--input", two], "2 Patients")
        self.assert_exit_2(["explain", "--input", two], "2 Patients")

    def test_subjects_naming_two_patients_and_no_patient(self):
        two = self.file("two-subjects.json", '{"resourceType":"Bundle","type":"collection","entry":['
                        '{"resource":{"resourceType":"Condition","id":"a",'
                        '"subject":{"reference":"Patient/a"}}},'
                        '{"resource":{"resourceType":"Condition","id":"b",'
                        '"subject":{"reference":"Patient/b"}}}]}')
        self.assert_exit_2(["run", "--input", two], two, "2 patients")

    def test_input_that_is_not_json(self):
        bad = self.file("bad.json", '{"resourceType":')
        self.assert_exit_2(["run", "--input", bad], bad, "malformed JSON")

    def test_input_is_read_with_a_size_limit(self):
        # /dev/zero never ends: reading it whole ran out of memory.
        started = time.monotonic()
        self.assert_exit_2(["run", "--input", "/dev/zero"], "/dev/zero", "limit", timeout=30)
        self.assertLess(time.monotonic() - started, 20)
        big = os.path.join(self.dir, "big.json")
        with open(big, "w") as f:
            f.truncate(65 << 20)  # sparse: one byte over 64 MiB costs no disk
        self.assert_exit_2(["run", "--input", big], big, "limit")
        self.assert_exit_2(["run", "--input", self.dir], self.dir)  # a directory

    def test_state_file_in_a_missing_directory(self):
        # Was 70, "internal error: please report".
        self.assert_exit_2(["sync", "--once", "--server", NOWHERE, "--state",
                            "/nonexistent-dir/state.db"], "/nonexistent-dir")

    def test_state_file_held_by_another_sync(self):
        state = os.path.join(self.dir, "state.db")
        # A sync that keeps running (every hour) holds the file.
        first = subprocess.Popen([ADAPTER, "sync", "--server", NOWHERE, "--state", state,
                                  "--interval", "3600"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                 env={**os.environ, "MST_SERVER_RETRY_MAX_ATTEMPTS": "1"})
        try:
            deadline = time.monotonic() + 30
            while not self.locked(state + ".lock"):
                self.assertIsNone(first.poll(), "the first sync ended")
                self.assertLess(time.monotonic(), deadline, "the first sync never took the lock")
                time.sleep(0.05)
            self.assert_exit_2(["sync", "--once", "--server", NOWHERE, "--state", state],
                               state, "in use")
        finally:
            first.terminate()
            first.wait(timeout=30)
        # Released with the process: the next sync runs (and fails on the server: 3).
        self.assertEqual(adapter("sync", "--once", "--server", NOWHERE, "--state", state)
                         .returncode, 3)

    @staticmethod
    def locked(path):
        if not os.path.exists(path):
            return False
        with open(path) as f:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(f, fcntl.LOCK_UN)
            return False

    def test_state_file_of_another_server_or_shard(self):
        state = os.path.join(self.dir, "state.db")
        self.assertEqual(adapter("sync", "--once", "--server", NOWHERE, "--state", state)
                         .returncode, 3)
        other = "http://127.0.0.1:8/fhir"
        self.assert_exit_2(["sync", "--once", "--server", other, "--state", state],
                           state, NOWHERE, other, "--state-server-moved")
        self.assert_exit_2(["sync", "--once", "--server", NOWHERE, "--state", state,
                            "--shard", "1/2"], state, "shard")
        # Said explicitly: the same server at a new URL keeps the state.
        self.assertEqual(adapter("sync", "--once", "--server", other, "--state", state,
                                 "--state-server-moved").returncode, 3)


if __name__ == "__main__":
    ADAPTER = os.path.abspath(sys.argv.pop(1))
    unittest.main()
