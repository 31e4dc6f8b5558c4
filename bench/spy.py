"""Sampling a running worker with py-spy, and the top functions of what it saw.

``Spy(pid).start()`` runs ``py-spy record --pid`` in the background (non-blocking: the worker is
never paused); ``stop()`` interrupts it, py-spy writes its samples as collapsed stacks
(``frame;frame;frame count``), and ``top`` ranks functions by self time (the innermost frame
of a sample) and by total time (anywhere on the stack, counted once per sample).
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

_LINE = re.compile(r":\d+\)$")


def py_spy() -> str | None:
    """The py-spy executable of this virtualenv (or on PATH), if installed."""
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


@dataclass
class Profile:
    samples: int
    seconds: float
    rate: int
    self_time: Counter[str]
    total_time: Counter[str]

    @property
    def busy(self) -> float:
        """Share of the wall time in which the worker's threads were on the CPU (sampled)."""
        expected = self.seconds * self.rate
        return self.samples / expected if expected else 0.0

    def report(self, top: int = 20) -> str:
        lines = [
            f"py-spy: {self.samples} samples of active threads in {self.seconds:.1f} s at "
            f"{self.rate} Hz (busy ~{self.busy:.0%} of one core; idle samples excluded)"
        ]
        for title, counts in (("self", self.self_time), ("total", self.total_time)):
            lines.append(f"top {top} by {title} time (% of samples)")
            for name, count in counts.most_common(top):
                lines.append(f"  {100 * count / max(self.samples, 1):5.1f}%  {name}")
        return "\n".join(lines)


def parse_collapsed(text: str) -> tuple[int, Counter[str], Counter[str]]:
    """Samples, self and total counts per function from py-spy's raw (collapsed) output."""
    samples = 0
    self_time: Counter[str] = Counter()
    total_time: Counter[str] = Counter()
    for line in text.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        # Functions, not lines: "handle (aiokafka/conn.py:123)" -> "handle (aiokafka/conn.py)".
        frames = [_LINE.sub(")", frame) for frame in stack.split(";") if frame]
        frames = [f for f in frames if not f.startswith("process ") and not f.startswith("thread ")]
        if not frames:
            continue
        samples += count
        self_time[frames[-1]] += count
        for frame in set(frames):
            total_time[frame] += count
    return samples, self_time, total_time


class Spy:
    """``py-spy record`` attached to ``pid`` until ``stop()``. ``stop()`` is safe twice."""

    def __init__(self, pid: int, out: Path, *, rate: int = 100) -> None:
        self.pid = pid
        self.out = out
        self.rate = rate
        self._process: subprocess.Popen[bytes] | None = None
        self._started = 0.0

    def start(self, now: float) -> None:
        executable = py_spy()
        if executable is None:
            raise RuntimeError("py-spy is not installed (pip install -e '.[dev]')")
        self._process = subprocess.Popen(
            [
                executable,
                "record",
                "--pid",
                str(self.pid),
                "--rate",
                str(self.rate),
                "--nonblocking",
                "--format",
                "raw",
                "--output",
                str(self.out),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self._started = now

    def stop(self, now: float) -> Profile | None:
        """Stop sampling; the profile, or None when py-spy failed (its error is printed)."""
        process, self._process = self._process, None
        if process is None:
            return None
        if process.poll() is None:
            process.send_signal(signal.SIGINT)  # py-spy writes its output on Ctrl-C
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        errors = process.stderr.read().decode(errors="replace") if process.stderr else ""
        if not self.out.is_file():
            print(f"py-spy wrote no profile (exit {process.returncode}): {errors.strip()[-500:]}")
            return None
        samples, self_time, total_time = parse_collapsed(self.out.read_text())
        return Profile(samples, now - self._started, self.rate, self_time, total_time)
