"""A training job does not outlive the trainer that started it: killed with SIGKILL (as a crash
or the OOM killer would), the trainer takes its job with it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

# A stand-in trainer: starts a child that asks to die with its parent, as a job does, and prints
# its pid once it has; then waits to be killed.
TRAINER = """
import os, subprocess, sys, time
subprocess.Popen([sys.executable, "-c", "from services.trainer.job import die_with_parent; import os, time; "
                  "die_with_parent(int(os.environ['DOCFLOW_TRAINER_PID'])); print(os.getpid(), flush=True); "
                  "time.sleep(120)"], env=os.environ | {"DOCFLOW_TRAINER_PID": str(os.getpid())})
time.sleep(120)
"""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie waiting for init to reap it is gone too
        return stat.read().rsplit(")", 1)[1].split()[0] != "Z"


def test_the_job_dies_with_its_trainer() -> None:
    trainer = subprocess.Popen([sys.executable, "-c", TRAINER], stdout=subprocess.PIPE, text=True)
    assert trainer.stdout is not None
    job = int(trainer.stdout.readline())  # the child has asked for the signal
    assert alive(job)
    trainer.send_signal(signal.SIGKILL)
    trainer.wait()
    deadline = time.monotonic() + 10
    while alive(job) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(job)
