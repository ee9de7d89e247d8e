"""``child_process.death_cause``: what a user reads when a worker process dies."""

from __future__ import annotations

import signal

from yolo_studio.training.child_process import death_cause, plain_line


def test_a_sigkill_while_the_oom_kill_count_grew_says_the_system_ran_out_of_memory():
    text = death_cause(-signal.SIGKILL, True, ["Epoch 3/30 ..."])
    assert "ran out of memory" in text and "Lower batch" in text
    assert text.endswith("Its last output: Epoch 3/30 ...")
    assert "ran out of memory" not in death_cause(-signal.SIGKILL, False, [])


def test_other_deaths_are_named():
    assert "segmentation fault (SIGSEGV)" in death_cause(-signal.SIGSEGV, False, [])
    assert "SIGABRT" in death_cause(-signal.SIGABRT, False, [])
    assert "exited with code 2" in death_cause(2, False, [])
    assert "Its last output: a | b" in death_cause(1, False, ["a", "b"])


def test_a_worker_output_line_loses_escape_codes_and_progress_bars():
    bar = ("\x1b[K      4/6         0G      5.028       3.16      1.853        106         64:"
           "   3% ──────────── 1/26 2.8s/it\n")
    assert plain_line(bar) == ""
    assert plain_line("a\rb\rRuntimeError: boom\x1b[0m\n") == "RuntimeError: boom"
    assert plain_line("Traceback (most recent call last):\n") == (
        "Traceback (most recent call last):")
