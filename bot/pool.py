"""The process pool that runs CPU-heavy stages off the event loop, on every core.

In: page bytes, URL and charset (extraction), or a fetched feed, sitemap or listing
(discovery). Out: an `ExtractedPage` or a `Rejection`; a `Discovery`.

Each worker is a process started with the `forkserver` method (the parent runs threads
and an event loop, which `fork` would copy in an undefined state). It loads trafilatura
once, says it is ready, then answers jobs over its own socket pair. The event loop reads
the answers itself: no helper threads and one pickled message each way per job (about
0.15 ms of the parent's CPU a page, where `ProcessPoolExecutor`'s queue and wake-up
threads took 0.4-0.6 ms, a seventh of a page's extraction, on the same two cores). A busy
worker is sent its next job while it still works on the current one (when the job fits
in the socket's buffer), so it never waits for the parent. A worker that dies costs only
the job it was running; the jobs queued behind it go to the others, and it is replaced.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import pickle
import signal
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from bot.errors import ParseError
from bot.extract import extract_or_reject, warm_up
from bot.models import Discovery, ExtractedPage, Rejection, Response, Source

# A job this small waits in a busy worker's socket buffer (Linux: ≥ 200 KiB) without
# blocking the event loop; a larger one is only sent to an idle worker, which reads it.
PIPELINED_BYTES = 64 * 1024
STOP_TIMEOUT_S = 5.0  # close(): how long a worker may take to leave before it is killed
RESPAWN_PAUSE_S = 1.0  # after a worker died before it was ready: no tight restart loop


@dataclass(eq=False)
class _Job:
    """One call for a worker, pickled once, and what its caller gets if the worker dies."""

    payload: bytes
    future: asyncio.Future[Any]
    if_crashed: BaseException | ExtractedPage | Rejection


@dataclass(eq=False)
class _Worker:
    """One worker process, the parent's end of its socket pair, and its jobs in order."""

    process: BaseProcess
    conn: Connection
    ready: bool = False
    jobs: deque[_Job] = field(default_factory=deque)


class ExtractPool:
    """Extraction in worker processes; `workers=0` runs it in a thread (tests, tiny installs)."""

    def __init__(self, workers: int, *, min_text_chars: int) -> None:
        self.workers = workers
        self.min_text_chars = min_text_chars
        self._thread = None if workers > 0 else ThreadPoolExecutor(1, "extract")
        self._context = multiprocessing.get_context("forkserver")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._waiting: deque[_Job] = deque()
        self._ready_waiters: list[asyncio.Future[None]] = []
        self._closed = False
        self._processes = [self._spawn() for _ in range(max(workers, 0))]

    async def ready(self) -> None:
        """Wait until every worker has loaded its libraries (start-up takes ~0.3 s of CPU each)."""
        self._attach()
        if self._all_ready():
            return
        waiter = asyncio.get_running_loop().create_future()
        self._ready_waiters.append(waiter)
        await waiter

    async def extract(
        self, html: bytes, url: str, charset: str | None
    ) -> ExtractedPage | Rejection:
        """Extract one page in a worker; a crashed worker is replaced and the page rejected."""
        if self._thread is not None:
            loop = asyncio.get_running_loop()
            args = (html, url, charset, self.min_text_chars)
            return await loop.run_in_executor(self._thread, extract_or_reject, *args)
        crashed = Rejection(url, "extraction worker crashed on this page")
        result: ExtractedPage | Rejection = await self._run(
            crashed, extract_or_reject, html, url, charset, self.min_text_chars
        )
        return result

    async def discover(self, source: Source, response: Response, now: datetime) -> Discovery:
        """Read a fetched feed, sitemap or listing page in a worker (feedparser is slow)."""
        if self._thread is not None:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._thread, _discover, source, response, now)
        crashed = ParseError(response.url, "discovery worker crashed on this document")
        found: Discovery = await self._run(crashed, _discover, source, response, now)
        return found

    def close(self) -> None:
        """Stop the workers now; every job not yet answered is cancelled."""
        self._closed = True
        if self._thread is not None:
            self._thread.shutdown(wait=True, cancel_futures=True)
        for worker in self._processes:
            self._detach(worker)
            worker.conn.close()  # an idle worker reads end-of-file and leaves
            if worker.jobs or not worker.ready:
                worker.process.terminate()  # a busy or starting one would only finish for nothing
        for worker in self._processes:
            worker.process.join(STOP_TIMEOUT_S)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
        for job in [*self._waiting, *(j for w in self._processes for j in w.jobs)]:
            job.future.cancel()
        for waiter in self._ready_waiters:
            waiter.cancel()
        self._processes.clear()
        self._waiting.clear()
        self._ready_waiters.clear()

    async def _run(self, if_crashed: BaseException | ExtractedPage | Rejection, *call: Any) -> Any:
        self._attach()
        payload = pickle.dumps(call, protocol=pickle.HIGHEST_PROTOCOL)
        future = asyncio.get_running_loop().create_future()
        self._waiting.append(_Job(payload, future, if_crashed))
        self._dispatch()
        return await future

    def _spawn(self) -> _Worker:
        parent_end, child_end = self._context.Pipe(duplex=True)
        process = self._context.Process(
            target=_serve, args=(child_end,), name="duta-extract", daemon=True
        )
        process.start()
        child_end.close()
        worker = _Worker(process, parent_end)
        if self._loop is not None:
            self._loop.add_reader(parent_end.fileno(), self._on_message, worker)
        return worker

    def _attach(self) -> None:
        """Read the workers' sockets from the running loop (a pool may outlive a loop)."""
        loop = asyncio.get_running_loop()
        if loop is self._loop:
            return
        for worker in self._processes:
            self._detach(worker)
        self._loop = loop
        for worker in self._processes:
            loop.add_reader(worker.conn.fileno(), self._on_message, worker)

    def _detach(self, worker: _Worker) -> None:
        if self._loop is not None and not self._loop.is_closed() and not worker.conn.closed:
            self._loop.remove_reader(worker.conn.fileno())

    def _on_message(self, worker: _Worker) -> None:
        try:
            kind, value = pickle.loads(worker.conn.recv_bytes())
        except (EOFError, OSError):
            self._replace(worker)
            return
        if kind == "ready":
            worker.ready = True
            self._wake_ready_waiters()
        else:
            job = worker.jobs.popleft()
            if not job.future.done():
                if kind == "ok":
                    job.future.set_result(value)
                else:
                    job.future.set_exception(value)
        self._dispatch()

    def _dispatch(self) -> None:
        """Hand waiting jobs to ready workers: idle ones first, then one more each if small."""
        while self._waiting:
            job = self._waiting[0]
            worker = self._least_busy(pipelined=len(job.payload) <= PIPELINED_BYTES)
            if worker is None:
                return
            self._waiting.popleft()
            try:
                worker.conn.send_bytes(job.payload)
            except OSError:
                self._waiting.appendleft(job)
                self._replace(worker)
                continue
            worker.jobs.append(job)

    def _least_busy(self, *, pipelined: bool) -> _Worker | None:
        room = 2 if pipelined else 1
        ready = [w for w in self._processes if w.ready and len(w.jobs) < room]
        return min(ready, key=lambda w: len(w.jobs), default=None)

    def _replace(self, dead: _Worker) -> None:
        """A worker died: its running job gets its crash answer, the rest wait for another."""
        self._detach(dead)
        dead.conn.close()
        if dead.process.is_alive():  # its socket broke, yet it runs: it cannot be used
            dead.process.kill()
        dead.process.join()
        self._processes.remove(dead)
        if dead.jobs:
            _answer(dead.jobs.popleft())
            self._waiting.extendleft(reversed(dead.jobs))
        if dead.ready:
            self._processes.append(self._spawn())
        else:
            # it died loading its libraries and may do so again: retry after a pause, and
            # hold no caller meanwhile if no other worker can serve (as ProcessPoolExecutor
            # failed every pending job when a worker broke)
            if not any(worker.ready for worker in self._processes):
                while self._waiting:
                    _answer(self._waiting.popleft())
            asyncio.get_running_loop().call_later(RESPAWN_PAUSE_S, self._respawn)
        self._dispatch()

    def _respawn(self) -> None:
        if not self._closed:
            self._processes.append(self._spawn())

    def _all_ready(self) -> bool:
        return sum(worker.ready for worker in self._processes) >= self.workers

    def _wake_ready_waiters(self) -> None:
        if self._all_ready():
            for waiter in self._ready_waiters:
                if not waiter.done():
                    waiter.set_result(None)
            self._ready_waiters.clear()


def _answer(job: _Job) -> None:
    """Give a job's caller what it gets when its worker crashed on it."""
    if job.future.done():
        return
    if isinstance(job.if_crashed, BaseException):
        job.future.set_exception(job.if_crashed)
    else:
        job.future.set_result(job.if_crashed)


def _discover(source: Source, response: Response, now: datetime) -> Discovery:
    # imported with the first document, not with the worker: extraction-only workers
    # stay without feedparser and the sitemap and listing readers
    from bot.discover import discover

    return discover(source, response, now=now)


def _serve(conn: Connection) -> None:
    """A worker's life: load the libraries, say so, answer jobs until the parent hangs up."""
    # Ctrl-C reaches the whole process group; the parent decides when workers stop
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    warm_up()
    try:
        conn.send_bytes(pickle.dumps(("ready", None)))
        while True:
            function, *args = pickle.loads(conn.recv_bytes())
            conn.send_bytes(_call(function, args))
    except (EOFError, OSError):
        return  # the pool closed (or its process is gone)


def _call(function: Callable[..., Any], args: list[Any]) -> bytes:
    """The pickled answer to one job: its value, or the exception its caller will get."""
    try:
        answer: tuple[str, Any] = ("ok", function(*args))
    # the caller re-raises whatever the job raised, as with any executor
    except Exception as exc:
        answer = ("error", exc)
    try:
        return pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:  # an unpicklable value or exception: still say what happened
        error = RuntimeError(f"{function.__name__}: {answer[1]!r} ({exc})")
        return pickle.dumps(("error", error), protocol=pickle.HIGHEST_PROTOCOL)
