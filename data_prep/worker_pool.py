"""The image worker processes: a spawn pool whose workers exit when their parent dies.

Kept apart from the writer so that a spawned worker imports only this module and ``images``
(PIL), not ``datasets`` and ``pyarrow``: a worker starts in well under a second.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor

from data_prep.images import ImageOptions, ImageResult, load_image

PARENT_CHECK_SECONDS = 0.5


def load(options: ImageOptions, path: str, prepared: str | None) -> ImageResult:
    """``load_image`` with the options first, for ``functools.partial`` and ``Executor.map``."""
    return load_image(path, options, prepared)


def _exit_with_parent(parent: int) -> None:
    """Worker initializer: exit as soon as the parent is gone. A pool worker blocked on its queue
    otherwise outlives a parent killed by SIGKILL, which runs no clean-up."""
    def watch() -> None:
        while os.getppid() == parent:
            threading.Event().wait(PARENT_CHECK_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def worker_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of ``workers`` processes that die with this one.

    spawn: each worker's parent is this process (under forkserver it would be the server), and no
    process running threads (tqdm, arrow) is forked.
    """
    return ProcessPoolExecutor(
        max_workers=workers, mp_context=multiprocessing.get_context("spawn"), initializer=_exit_with_parent, initargs=(os.getpid(),),
    )
