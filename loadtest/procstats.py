"""CPU and memory of a process tree, sampled in a background thread while a load runs."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import psutil


@dataclass(frozen=True)
class ProcessUsage:
    cpu_mean_percent: float  # 100 = one core busy
    cpu_max_percent: float
    rss_peak_mb: float
    samples: int


class ProcessSampler:
    """Samples CPU% and RSS of `pid` and all its descendants every `interval_s` seconds."""

    def __init__(self, pid: int, *, interval_s: float = 0.5) -> None:
        self._root = psutil.Process(pid)
        self._interval_s = interval_s
        self._known: dict[int, psutil.Process] = {}
        self._cpu: list[float] = []
        self._rss_peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"sampler-{pid}", daemon=True)

    def _tree(self) -> list[psutil.Process]:
        try:
            procs = [self._root, *self._root.children(recursive=True)]
        except psutil.Error:
            return []
        # Reuse Process objects: cpu_percent() measures since that object's previous call.
        return [self._known.setdefault(p.pid, p) for p in procs]

    def _sample(self, *, record: bool) -> None:
        cpu, rss = 0.0, 0
        for proc in self._tree():
            try:
                cpu += proc.cpu_percent(None)
                rss += proc.memory_info().rss
            except psutil.Error:
                continue
        if record:
            self._cpu.append(cpu)
            self._rss_peak = max(self._rss_peak, rss)

    def _loop(self) -> None:
        self._sample(record=False)  # primes cpu_percent
        while not self._stop.wait(self._interval_s):
            self._sample(record=True)

    def __enter__(self) -> ProcessSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def usage(self) -> ProcessUsage:
        cpu = self._cpu or [0.0]
        return ProcessUsage(
            cpu_mean_percent=sum(cpu) / len(cpu),
            cpu_max_percent=max(cpu),
            rss_peak_mb=self._rss_peak / 2**20,
            samples=len(self._cpu),
        )
