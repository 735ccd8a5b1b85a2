"""The bridge's durable report queue (issue 5): reports survive a killed process, leave the
queue only once acknowledged, are delivered in order, and executed commands are remembered.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

from hardware.bridge.reports import LIVE, PendingClear, Report, ReportQueue
from tests.harness import patience

ROOT = Path(__file__).resolve().parents[2]


def _child(script: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script)], cwd=ROOT,
        stdout=subprocess.PIPE, text=True, bufsize=1,
    )


def _kill_after(child: subprocess.Popen[str], lines: int) -> list[str]:
    """Read ``lines`` lines from the child, then SIGKILL it; the lines read."""
    assert child.stdout is not None
    seen = [child.stdout.readline().strip() for _ in range(lines)]
    os.kill(child.pid, signal.SIGKILL)
    child.wait(patience(10))
    assert child.returncode == -signal.SIGKILL
    return seen


def test_committed_reports_survive_a_process_killed_with_sigkill_in_order(tmp_path: Path) -> None:
    # given: a process recording reports as fast as it can, saying which are committed
    path = tmp_path / "reports.sqlite3"
    child = _child(f"""
        from hardware.bridge.reports import Report, ReportQueue
        queue = ReportQueue({str(path)!r})
        for i in range(100000):
            queue.record("READ_KEY", Report.success(f"c{{i}}", {{"i": i}}))
            print(i, flush=True)
    """)
    # when: it is killed with SIGKILL in the middle
    seen = _kill_after(child, 40)
    # then: every report it saw committed is there, oldest first, with nothing out of order
    with ReportQueue(path) as queue:
        pending = queue.pending()
        ids = [item.report.command_id for item in pending]
        assert ids == [f"c{i}" for i in range(len(ids))]
        assert len(ids) >= int(seen[-1]) + 1
        assert [item.seq for item in pending] == sorted(item.seq for item in pending)
        assert pending[7].report.result == {"i": 7}
        # and: every recorded command is remembered as executed
        assert queue.executed("c0") is not None


def test_a_report_leaves_the_queue_only_after_it_is_acknowledged_even_across_sigkill(
    tmp_path: Path,
) -> None:
    # given: twenty queued reports
    path = tmp_path / "reports.sqlite3"
    with ReportQueue(path) as queue:
        for i in range(20):
            queue.record("READ_KEY", Report.success(f"c{i}", {"i": i}))
    # when: a process acknowledging them one by one (as the server answers) is killed
    child = _child(f"""
        import time
        from hardware.bridge.reports import ReportQueue
        queue = ReportQueue({str(path)!r})
        for item in queue.pending():
            queue.acknowledge(item.seq)
            print(item.report.command_id, flush=True)
            time.sleep(0.2)
    """)
    acked = _kill_after(child, 5)
    # then: the acknowledged ones are gone, the others wait in their order
    with ReportQueue(path) as queue:
        left = [item.report.command_id for item in queue.pending()]
        assert not set(acked) & set(left)
        assert left == [f"c{i}" for i in range(20 - len(left), 20)]
        # five were acknowledged before the kill; more may have been (the test reads slowly on a
        # busy machine), never fewer
        assert len(left) <= 15
        # and: an acknowledged command is still known as executed, with its report
        done = queue.executed("c0")
        assert done is not None and done.outcome == "ACKED"
        assert done.report == Report.success("c0", {"i": 0})


def test_a_redelivered_commands_stored_report_is_queued_again_at_the_end(tmp_path: Path) -> None:
    with ReportQueue(tmp_path / "q.sqlite3") as queue:
        queue.record("READ_KEY", Report.success("a", {"n": 1}))
        queue.record("WRITE_KEY", Report.failure("b", "NO_KEY", "key X is not in the left slot"))
        first = queue.pending()[0]
        # while still queued, asking again queues nothing twice
        assert queue.requeue("a") is False
        queue.acknowledge(first.seq)
        # when: the server delivers "a" again after it was acknowledged
        assert queue.requeue("a") is True
        # then: the stored report goes out again, behind the older one
        assert [(i.kind, i.report.command_id) for i in queue.pending()] == [
            ("WRITE_KEY", "b"), ("READ_KEY", "a")]
        assert queue.pending()[0].report.mutation_input() == {
            "commandId": "b", "ok": False, "result": None, "errorCode": "NO_KEY",
            "errorMessage": "key X is not in the left slot"}


def test_a_login_signature_is_remembered_as_executed_but_never_stored(tmp_path: Path) -> None:
    # R5: SIGN_LOGIN is live only: no report body (and so no PIN, no signature) on disk
    path = tmp_path / "q.sqlite3"
    with ReportQueue(path) as queue:
        queue.record("SIGN_LOGIN", Report.success("login-1", {"signature": "c2lnbmVk"}),
                     durable=False)
        assert queue.count() == 0
        done = queue.executed("login-1")
        assert done is not None and done.report is None and done.outcome == LIVE
        assert queue.requeue("login-1") is False
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert b"c2lnbmVk" not in raw


def test_results_to_clear_are_committed_with_their_report(tmp_path: Path) -> None:
    # R17: results are cleared from the programming key only after their report is queued
    with ReportQueue(tmp_path / "q.sqlite3") as queue:
        clear = PendingClear("r1", "left", "PK-UID", ["UHJvZ3JhbW1pbmdKb2I6MQ=="])
        queue.record("READ_PROGRAMMING_RESULTS", Report.success("r1", {"results": []}),
                     clear=clear)
        assert queue.pending_clears("PK-UID") == [clear]
        assert queue.pending_clears("OTHER") == []
        queue.cleared("r1")
        assert queue.pending_clears() == []


def test_a_rejected_report_leaves_the_queue_and_is_counted(tmp_path: Path) -> None:
    with ReportQueue(tmp_path / "q.sqlite3") as queue:
        queue.record("READ_KEY", Report.success("gone", {}))
        queue.record("READ_KEY", Report.success("next", {}))
        queue.reject(queue.pending()[0].seq, "NOT_FOUND: no such command")
        assert [i.report.command_id for i in queue.pending()] == ["next"]
        assert queue.rejected_count() == 1


def test_the_queue_file_is_private_and_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "q.sqlite3"
    with ReportQueue(path) as queue:
        queue.record("READ_KEY", Report.success("a", {}))
        mode = queue._db.execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
