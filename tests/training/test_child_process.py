"""``child_process.death_cause``: what a user reads when a worker process dies."""

from __future__ import annotations

import signal

from yolo_studio.training.child_process import death_cause


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
