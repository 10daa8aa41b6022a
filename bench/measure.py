"""Timing and peak memory of a block of work: wall time, and the peak resident memory of this process plus
its children (dbt runs as a subprocess), sampled every 50 ms."""

from __future__ import annotations

import os
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass

import psutil


@dataclass
class Measurement:
    seconds: float = 0.0
    peak_rss_mib: float = 0.0


def _rss(process: psutil.Process) -> int:
    total = process.memory_info().rss
    for child in process.children(recursive=True):
        try:
            total += child.memory_info().rss
        except psutil.Error:  # a child may finish between listing and reading
            pass
    return total


@contextmanager
def measured():
    """with measured() as m: ...  -> m.seconds, m.peak_rss_mib"""
    process = psutil.Process(os.getpid())
    result = Measurement()
    peak = [_rss(process)]
    stop = threading.Event()

    def sample():
        while not stop.wait(0.05):
            peak[0] = max(peak[0], _rss(process))

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    started = time.perf_counter()
    try:
        yield result
    finally:
        result.seconds = time.perf_counter() - started
        stop.set()
        thread.join()
        result.peak_rss_mib = max(peak[0], _rss(process)) / 2**20
