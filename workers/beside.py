"""Work that runs beside the models: one thread of its own per clip.

A frame's plates are found and read with what the main thread has already given them (the
frame, its tracked vehicles), and nothing on the main thread needs them until a few frames
later, so on a machine of few cores they are found and read on a second thread while the main
one detects and tracks the next frames' vehicles and looks at their road: ONNX Runtime and
OpenCV free the GIL while they work. The work keeps its order (one thread, first in first
out) and runs in a copy of the caller's context, so its stage times count to the same job;
its result or error comes back where it is asked for.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class Beside:
    """A thread for one clip's side work, started on first use; :meth:`close` ends it."""

    def __init__(self, inline: bool = False) -> None:
        """``inline``: the work runs in the caller's thread when it is given (a photo)."""
        self.inline = inline
        self._pool: ThreadPoolExecutor | None = None

    def submit(self, work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        if self.inline:
            done: Future[T] = Future()
            try:
                done.set_result(work(*args, **kwargs))
            except BaseException as exc:  # raised where the result is asked for
                done.set_exception(exc)
            return done
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="beside")
        context = contextvars.copy_context()

        def run() -> T:
            return context.run(work, *args, **kwargs)

        return self._pool.submit(run)

    def close(self) -> None:
        """Wait for the work already given, then end the thread."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
