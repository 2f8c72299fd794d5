"""Fewer passes of Python's cyclic garbage collector while a model is built and solved.

A dispatch model holds a few hundred thousand Pyomo objects (expressions, rows, variables) that
live as long as the model. With Python's default thresholds (a collection every 700 new
container objects, every tenth of them also scanning the older generation) the collector
re-scans those objects over and over while the model is built and each window is read: on an
8-day hourly window (16,321 rows) the build took 0.30-0.50 s with the default thresholds and
0.12 s with the ones below. Collections still run, just less often; memory freed by reference
counting (almost all of it) is unaffected.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

#: (new objects between young collections, young collections per middle one, middle
#: collections per full one); Python's defaults are (700, 10, 10)
THRESHOLDS = (50_000, 20, 100)


_lock = threading.Lock()
_active = 0  # blocks inside ``fewer_collections``, all threads (the thresholds are global)
_restore: tuple[int, ...] = ()  # the thresholds before the first of them entered


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Raise the collector's thresholds to at least ``THRESHOLDS`` inside the block (also usable
    as a decorator, ``@fewer_collections()``).

    The thresholds are global to the process: blocks that overlap (nested, or in several
    threads, e.g. two UI sessions solving at once) share one raise, and the thresholds held
    before the first of them entered are restored when the last one leaves."""
    global _active, _restore
    with _lock:
        if _active == 0:
            _restore = gc.get_threshold()
            if _restore[0]:  # (a first threshold of 0 switches collection off: left so)
                gc.set_threshold(*(max(a, b) for a, b in zip(THRESHOLDS, _restore, strict=True)))
        _active += 1
    try:
        yield
    finally:
        with _lock:
            _active -= 1
            if _active == 0:
                gc.set_threshold(*_restore)
