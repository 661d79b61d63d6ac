"""gonet for asyncio: the same connections, listeners and datagram sockets
with Go's semantics and errors, as coroutines that never block the event
loop.

    import asyncio
    import gonet.aio

    async def main() -> None:
        async with await gonet.aio.listen("tcp", "127.0.0.1:0") as ln:
            async with await gonet.aio.dial("tcp", ln.local_addr, timeout=5) as c:
                async with await ln.accept() as s:
                    await c.write(b"ping")
                    print(await s.read(4))

    asyncio.run(main())

How it waits: every handle's descriptor (``fileno()``) is watched by the
loop (``add_reader``/``add_writer``), and reads, writes and accepts are the
library's non-blocking calls (``net_try_read``, ``net_try_write``,
``net_try_accept``, ``net_try_read_from``, ``net_try_write_to``), made
when the descriptor is ready; no thread waits for a connection, so a
thousand connections on one loop cost no threads. Dials and listens, which
may look names up, run on a small pool of at most ``DIAL_THREADS`` threads
shared by the process; a cancelled dial is stopped through its dialer
(``net_dialer_cancel``).

Rules, as in the blocking API: ``None`` means no deadline or timeout, a
number is seconds, zero or less has already passed. Deadlines are set with
plain methods (``set_deadline``, ``set_read_deadline``,
``set_write_deadline``) and apply to waits in progress at once. Errors are
the blocking API's classes (``gonet.DeadlineExceededError``, a
``TimeoutError``; ``gonet.ConnectionRefusedGonetError``, a
``ConnectionRefusedError``; ``gonet.ClosedError`` ...).

Concurrency: one loop per handle (the loop running when it was made).
Several tasks may read and write one connection at once: each read takes
a contiguous piece of the stream, and writes are queued so that each
task's ``write`` goes out whole, in the order they were called. Do not mix
a handle's gonet.aio use with blocking calls on it from other threads.

Cancelling a task waiting in ``read``, ``readinto``, ``read_from``,
``accept``, ``write`` or ``dial`` raises ``CancelledError`` in it at once.
Nothing received is lost: data (or a connection) that arrived for a
cancelled read (or accept) is kept and returned by the next one. A
cancelled ``write`` may have sent the first part of its data, as a
cancelled ``sendall`` may. A cancelled dial closes whatever it connected.
"""

import asyncio
import collections
import concurrent.futures
import ctypes
import threading
import weakref
from types import TracebackType
from typing import Any, Callable, Deque, List, Literal, Optional, Tuple, Type, TypeVar, Union, overload

from ._dial import _IP_NETWORKS
from ._errors import ClosedError, GonetError, MessageTooLongError, _check, _error
from ._ffi import (
    NET_ADDR_MAX,
    NET_EAGAIN,
    _ADDR_LEN,
    _byref,
    _c,
    _c_char_from_buffer,
    _len,
    _lens_get,
    _raw_try_read,
    _raw_try_read_from,
    _raw_try_write,
    _raw_try_write_to,
)
from ._handle import _SCRATCH, Seconds, Text, _bytes_like, _deadline_ms, _encode, _size, _writable
from ._packet import PacketConn as _BlockingPacketConn
from ._stream import _PACKET_NETWORKS
from ._stream import Conn as _BlockingConn
from ._stream import Listener as _BlockingListener
from ._stream import listen as _blocking_listen

__all__ = ["Conn", "Listener", "PacketConn", "dial", "listen", "listen_packet", "DIAL_THREADS"]

DIAL_THREADS = 4
"""The most threads dials and listens use at once, in the whole process;
more wait their turn."""

_T = TypeVar("_T", bound="_Handle")

# A pending operation: the future its task awaits, and one attempt at it,
# which settles the future and returns True, or returns False (would block).
_Attempt = Callable[["asyncio.Future[Any]"], bool]
_Op = Tuple["asyncio.Future[Any]", _Attempt]

_pool_lock = threading.Lock()
_pool: Optional[concurrent.futures.ThreadPoolExecutor] = None


def _dial_pool() -> concurrent.futures.ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = concurrent.futures.ThreadPoolExecutor(DIAL_THREADS, thread_name_prefix="gonet-dial")
        return _pool


def _blocking_result(fn: Callable[[], int]) -> Tuple[int, Optional[GonetError]]:
    """Runs on a pool thread: fn's result, and its error made there, where
    net_last_error has the message."""
    r = fn()
    return r, (_error(r) if r < 0 else None)


async def _in_pool(fn: Callable[[], int], on_cancel: Callable[[], None], discard: Callable[[int], None]) -> int:
    """fn() on the dial pool, which returns a count or a handle. If the
    awaiting task is cancelled, ``on_cancel`` stops the call and
    ``discard`` gets any handle it still makes, so that nothing leaks."""
    cf = _dial_pool().submit(_blocking_result, fn)
    try:
        r, err = await asyncio.wrap_future(cf)
    except asyncio.CancelledError:
        on_cancel()

        def late(f: "concurrent.futures.Future[Tuple[int, Optional[GonetError]]]") -> None:
            if not f.cancelled() and f.exception() is None and f.result()[0] > 0:
                discard(f.result()[0])

        cf.add_done_callback(late)
        raise
    if err is not None:
        raise err
    return r


_scratches: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Tuple[Any, Any, Any, Any]]" = weakref.WeakKeyDictionary()


def _scratch(loop: asyncio.AbstractEventLoop) -> Tuple[Any, Any, Any, Any]:
    """The loop's scratch buffers for reads and senders, with their
    prepared pointers, made on its first handle."""
    found = _scratches.get(loop)
    if found is None:
        buf = ctypes.create_string_buffer(_SCRATCH)
        sender = ctypes.create_string_buffer(NET_ADDR_MAX)
        found = (buf, _byref(buf), sender, _byref(sender))
        _scratches[loop] = found
    return found


def _nothing(*args: Any) -> None:
    pass


def _close_handle(h: int) -> None:
    _c.net_close(h)


def _address(data: Any) -> Tuple[Any, int, int]:
    """(keeper, address, length) of a bytes-like object for the write
    paths: ``keeper`` holds the memory still until the write is over."""
    if type(data) is not bytes:
        with _bytes_like(data, "write()") as mv:
            n = mv.nbytes
            copy = mv.readonly or not mv.c_contiguous
            if copy:
                data = mv.tobytes()
        if n == 0:
            return None, 0, 0
        if not copy:
            # Exported while ``c`` lives: a bytearray cannot be resized
            # under the write.
            c = _c_char_from_buffer(data)
            return c, ctypes.addressof(c), n
    return data, ctypes.cast(ctypes.c_char_p(data), ctypes.c_void_p).value or 0, len(data)


class _Handle:
    """What every gonet.aio handle shares: the loop's watch on its
    descriptor, the queues of waiting reads (or accepts) and writes, the
    deadlines' timers, close, and the plain-method properties."""

    __slots__ = (
        "_b", "_h", "_ah", "_fd", "_loop", "_rq", "_wq", "_rreg", "_wreg",
        "_rdl", "_wdl", "_rtimer", "_wtimer", "_closed", "__weakref__",
    )

    def __init__(self, blocking: Any, loop: Optional[asyncio.AbstractEventLoop] = None) -> None:
        self._b = blocking
        self._h: int = blocking.handle
        self._ah: Any = blocking._ah
        self._loop = loop or asyncio.get_running_loop()
        self._fd: int = blocking.fileno()
        self._rq: Deque[_Op] = collections.deque()
        self._wq: Deque[_Op] = collections.deque()
        self._rreg = False
        self._wreg = False
        # Deadlines on the loop's clock (time.monotonic, the library's
        # CLOCK_MONOTONIC), taken after the library set its own, so never
        # before it; None for none.
        self._rdl: Optional[float] = None
        self._wdl: Optional[float] = None
        self._rtimer: Optional[asyncio.TimerHandle] = None
        self._wtimer: Optional[asyncio.TimerHandle] = None
        self._closed = False

    # -- plain methods, as the blocking API's ------------------------------

    @property
    def handle(self) -> int:
        """The library's int64 handle."""
        return self._h

    @property
    def closed(self) -> bool:
        """Whether close() was called."""
        return self._closed

    @property
    def local_addr(self) -> str:
        """The local address, such as ``"127.0.0.1:8088"``."""
        return str(self._b.local_addr)

    def fileno(self) -> int:
        """The socket's descriptor, which this object's loop watches. Do
        not watch it yourself, close, read or write it."""
        return self._fd

    def set_deadline(self, seconds: Seconds) -> None:
        """Sets the read and write deadlines to now + ``seconds``: ``None``
        clears them, 0 or less has already passed. Waiting and later calls
        past it raise DeadlineExceededError (a TimeoutError) until it is
        moved; a plain method, it applies to waits in progress at once.
        ValueError for NaN, infinity or more than 292 years; ClosedError
        once closed."""
        self._set_deadline(_c.net_set_deadline, seconds, True, True)

    def set_read_deadline(self, seconds: Seconds) -> None:
        """As set_deadline, for reads (and accepts) only."""
        self._set_deadline(_c.net_set_read_deadline, seconds, True, False)

    def set_write_deadline(self, seconds: Seconds) -> None:
        """As set_deadline, for writes only."""
        self._set_deadline(_c.net_set_write_deadline, seconds, False, True)

    def _set_deadline(self, fn: Callable[[int, int], int], seconds: Seconds, read: bool, write: bool) -> None:
        ms = _deadline_ms(seconds)
        _check(fn(self._h, ms))
        at = None if ms < 0 else self._loop.time() + ms / 1000.0
        if read:
            self._rdl = at
            self._arm(False)
        if write:
            self._wdl = at
            self._arm(True)

    # -- waiting ----------------------------------------------------------

    def _arm(self, write: bool) -> None:
        """(Re)sets the timer of one direction: at its deadline while
        anything waits in that direction, none otherwise."""
        timer = self._wtimer if write else self._rtimer
        if timer is not None:
            timer.cancel()
            timer = None
        q = self._wq if write else self._rq
        at = self._wdl if write else self._rdl
        if q and at is not None:
            timer = self._loop.call_at(at, self._expire, write)
        if write:
            self._wtimer = timer
        else:
            self._rtimer = timer

    def _expire(self, write: bool) -> None:
        """A deadline's timer: the waiting calls try again, and the library,
        whose deadline has passed too, fails them with NET_ETIMEOUT."""
        if write:
            self._wtimer = None
        else:
            self._rtimer = None
        q = self._wq if write else self._rq
        self._drain(q)
        if q:
            # The timer ran a hair before the library's clock reached the
            # deadline (or the deadline moved): look again shortly.
            t = self._loop.call_later(0.001, self._expire, write)
            if write:
                self._wtimer = t
            else:
                self._rtimer = t
        if write and not q and self._wreg:
            self._loop.remove_writer(self._fd)
            self._wreg = False

    @staticmethod
    def _drain(q: Deque[_Op]) -> None:
        """Gives the waiting calls of one direction their attempts, first
        come first served, until one would block."""
        while q:
            fut, attempt = q[0]
            if not fut.done() and not attempt(fut):
                return
            q.popleft()

    def _on_readable(self) -> None:
        q = self._rq
        if not q:
            # Nobody reads: stop watching (the data waits in the socket).
            # While reads keep coming the watch stays, saving two epoll_ctl
            # calls a read.
            self._loop.remove_reader(self._fd)
            self._rreg = False
            return
        self._drain(q)
        if not q and self._rtimer is not None:
            self._rtimer.cancel()
            self._rtimer = None

    def _on_writable(self) -> None:
        q = self._wq
        self._drain(q)
        if not q:
            # Writable is the usual state: watching it with nothing to
            # write would wake the loop at every turn.
            self._loop.remove_writer(self._fd)
            self._wreg = False
            if self._wtimer is not None:
                self._wtimer.cancel()
                self._wtimer = None

    async def _wait(self, write: bool, attempt: _Attempt) -> Any:
        """Queues ``attempt`` until the descriptor is ready (or a deadline
        passes, or close) and returns what it settled. On cancellation the
        operation leaves the queue; a result it already had is handed to
        ``_keep`` so that the next call returns it."""
        if self._closed:
            fut0: "asyncio.Future[Any]" = self._loop.create_future()
            attempt(fut0)
            return fut0.result()
        fut: "asyncio.Future[Any]" = self._loop.create_future()
        op: _Op = (fut, attempt)
        if write:
            q = self._wq
            q.append(op)
            if not self._wreg:
                self._loop.add_writer(self._fd, self._on_writable)
                self._wreg = True
            if self._wdl is not None and self._wtimer is None:
                self._arm(True)
        else:
            q = self._rq
            q.append(op)
            if not self._rreg:
                self._loop.add_reader(self._fd, self._on_readable)
                self._rreg = True
            if self._rdl is not None and self._rtimer is None:
                self._arm(False)
        try:
            return await fut
        except asyncio.CancelledError:
            try:
                q.remove(op)
            except ValueError:
                pass
            if fut.done() and not fut.cancelled() and fut.exception() is None:
                self._keep(fut.result())
            raise

    def _keep(self, result: Any) -> None:
        """A result that arrived for a cancelled call, for the next call."""

    def _stop_watching(self) -> None:
        if self._rreg:
            self._loop.remove_reader(self._fd)
            self._rreg = False
        if self._wreg:
            self._loop.remove_writer(self._fd)
            self._wreg = False
        for timer in (self._rtimer, self._wtimer):
            if timer is not None:
                timer.cancel()
        self._rtimer = self._wtimer = None

    async def close(self) -> None:
        """Closes it: calls waiting on it raise ClosedError. The loop stops
        watching the descriptor first, as its number may be reused.
        Closing twice is harmless."""
        self._close()

    def _close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._stop_watching()
        self._b.close()
        # The waiting calls try once more and fail: the handle is closed.
        for q in (self._rq, self._wq):
            self._drain(q)
            q.clear()

    async def __aenter__(self: _T) -> _T:
        return self

    async def __aexit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        await self.close()


class _Reader(_Handle):
    """Connections: reads with a scratch buffer, writes queued whole."""

    __slots__ = ("_buf", "_bufp", "_sender", "_senderp", "_hot", "_kept")

    def __init__(self, blocking: Any, loop: Optional[asyncio.AbstractEventLoop] = None) -> None:
        _Handle.__init__(self, blocking, loop)
        # One scratch buffer serves every read of every handle on the
        # loop: an attempt copies what it read out before it returns, and
        # attempts never overlap (a loop runs one callback at a time). A
        # buffer per connection would cost 64 KiB each.
        self._buf, self._bufp, self._sender, self._senderp = _scratch(self._loop)
        # Whether the last read filled its buffer, so that the next one
        # tries at once instead of waiting for readiness first.
        self._hot = True
        self._kept: Deque[Any] = collections.deque()

    @property
    def remote_addr(self) -> str:
        """The peer's address ("" for a packet socket from listen_packet)."""
        return str(self._b.remote_addr)

    def _keep(self, result: Any) -> None:
        self._kept.append(result)

    async def write(self, data: Any) -> int:
        """Writes all of ``data`` (any bytes-like object) and returns its
        length. Writes from several tasks each go out whole, in the order
        called. On a packet socket ``data`` is one datagram, sent whole.
        TypeError for a str or other non-buffer."""
        keeper, address, n = _address(data)
        if n == 0 and self._is_stream():
            return 0
        done = 0
        if not self._wq:
            r: int = _raw_try_write(self._ah, ctypes.c_void_p(address), _lens_get(n) or _len(n))
            if r == n:
                return n
            if r != NET_EAGAIN:
                if r < 0:
                    raise _error(r)
                done = r
        sent = [done]
        ah = self._ah

        def attempt(fut: "asyncio.Future[Any]") -> bool:
            left = n - sent[0]
            r = _raw_try_write(ah, ctypes.c_void_p(address + sent[0]), _lens_get(left) or _len(left))
            if r == NET_EAGAIN:
                return False
            if r < 0:
                fut.set_exception(_error(r))
                return True
            sent[0] += r
            if sent[0] < n:
                return False
            fut.set_result(n)
            return True

        try:
            result: int = await self._wait(True, attempt)
        finally:
            del keeper
        return result

    def _is_stream(self) -> bool:
        return True


class Conn(_Reader):
    """A stream connection (Go's ``net.Conn`` over "tcp" or "unix") on an
    event loop. Failures raise the blocking API's errors: ClosedError after
    close(), DeadlineExceededError (a TimeoutError) past a deadline,
    ConnectionResetGonetError and BrokenPipeGonetError when the peer is
    gone."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<gonet.aio.Conn handle=%d%s>" % (self._h, " closed" if self._closed else "")

    def _keep(self, result: Any) -> None:
        # readinto's counts were copied to bytes by its own handler.
        if isinstance(result, bytes) and result:
            self._kept.append(result)

    def _take(self, n: int) -> bytes:
        """Up to n bytes of what cancelled reads received."""
        first: bytes = self._kept.popleft()
        if len(first) > n:
            self._kept.appendleft(first[n:])
            return first[:n]
        return first

    async def read(self, n: int = _SCRATCH) -> bytes:
        """Reads up to ``n`` bytes (at least one, waiting until some
        arrive); ``b""`` at end of stream. TypeError unless ``n`` is an
        int, ValueError if negative."""
        if type(n) is not int:
            n = _size(n, "read()")
        if n <= 0:
            if n < 0:
                raise ValueError("negative read size")
            return b""
        if self._kept:
            return self._take(n)
        buf: Any
        if n <= _SCRATCH:
            buf, bufp = self._buf, self._bufp
        else:
            buf = ctypes.create_string_buffer(n)
            bufp = _byref(buf)
        length = _lens_get(n) or _len(n)
        ah = self._ah
        if self._hot:
            r: int = _raw_try_read(ah, bufp, length)
            if r >= 0:
                self._hot = r == n
                data: bytes = buf[:r]
                return data
            if r != NET_EAGAIN:
                raise _error(r)
            self._hot = False

        def attempt(fut: "asyncio.Future[Any]") -> bool:
            r = _raw_try_read(ah, bufp, length)
            if r >= 0:
                self._hot = r == n
                fut.set_result(buf[:r])
                return True
            if r == NET_EAGAIN:
                return False
            fut.set_exception(_error(r))
            return True

        result: bytes = await self._wait(False, attempt)
        return result

    recv = read

    async def readinto(self, buffer: Any) -> int:
        """Reads into a writable buffer (bytearray, memoryview, array...)
        and returns the number of bytes read, 0 at end of stream. TypeError
        for a read-only or non-buffer argument."""
        n = _writable(buffer, "readinto()")
        if n == 0:
            return 0
        if self._kept:
            data = self._take(n)
            with memoryview(buffer) as mv, mv.cast("B") as mb:
                mb[: len(data)] = data
            return len(data)
        length = _lens_get(n) or _len(n)
        ah = self._ah

        def once() -> int:
            c = _c_char_from_buffer(buffer)
            r: int = _raw_try_read(ah, _byref(c), length)
            del c
            return r

        if self._hot:
            r = once()
            if r >= 0:
                self._hot = r == n
                return r
            if r != NET_EAGAIN:
                raise _error(r)
            self._hot = False

        late = [0]

        def attempt(fut: "asyncio.Future[Any]") -> bool:
            r = once()
            if r >= 0:
                self._hot = r == n
                late[0] = r
                fut.set_result(r)
                return True
            if r == NET_EAGAIN:
                return False
            fut.set_exception(_error(r))
            return True

        try:
            got: int = await self._wait(False, attempt)
        except asyncio.CancelledError:
            if late[0] > 0:
                # Bytes that arrived for a task cancelled before it saw
                # them: in ``buffer`` now, kept for the next read too.
                with memoryview(buffer) as mv, mv.cast("B") as mb:
                    self._kept.append(mb[: late[0]].tobytes())
            raise
        return got

    recv_into = readinto

    sendall = _Reader.write

    def close_write(self) -> None:
        """Shuts down the writing side: the peer reads end of stream."""
        self._b.close_write()

    def close_read(self) -> None:
        """Shuts down the reading side."""
        self._b.close_read()

    def set_nodelay(self, on: bool = True) -> None:
        """Turns Nagle's algorithm off (True, the default) or on."""
        self._b.set_nodelay(on)

    def set_keepalive(self, seconds: Seconds) -> None:
        """Turns TCP keep-alive on with ``seconds`` as idle time and probe
        interval, or off with ``None`` (or 0 or less)."""
        self._b.set_keepalive(seconds)


class PacketConn(_Reader):
    """A datagram socket on an event loop: from listen_packet (read_from,
    write_to) or dial on "udp", "udp4", "udp6", "unixgram" (read, write).
    Every read takes one whole datagram and every write sends one; a
    datagram longer than the buffer is consumed and raises
    MessageTooLongError with the part that fit."""

    __slots__ = ("_unixgram",)

    def __init__(self, blocking: Any, loop: Optional[asyncio.AbstractEventLoop] = None, unixgram: bool = False) -> None:
        _Reader.__init__(self, blocking, loop)
        # Linux reports an unconnected unixgram socket writable even when
        # the peer's queue is full: its writes retry on a timer instead.
        self._unixgram = unixgram

    def __repr__(self) -> str:
        return "<gonet.aio.PacketConn handle=%d%s>" % (self._h, " closed" if self._closed else "")

    def _is_stream(self) -> bool:
        return False

    def _datagram(self, n: int, with_sender: bool) -> Callable[["asyncio.Future[Any]"], bool]:
        """An attempt at one datagram of at most n bytes: its bytes, or
        (bytes, sender) when ``with_sender``."""
        buf: Any
        if n <= _SCRATCH:
            buf, bufp = self._buf, self._bufp
        else:
            buf = ctypes.create_string_buffer(n)
            bufp = _byref(buf)
        length = _lens_get(n) or _len(n)
        ah, sender, senderp = self._ah, self._sender, self._senderp

        def attempt(fut: "asyncio.Future[Any]") -> bool:
            r: int
            if with_sender:
                r = _raw_try_read_from(ah, bufp, length, senderp, _ADDR_LEN)
            else:
                r = _raw_try_read(ah, bufp, length)
            if r == NET_EAGAIN:
                return False
            if r >= 0:
                data = buf[:r]
                fut.set_result((data, sender.value.decode("utf-8", "replace")) if with_sender else data)
                return True
            e = _error(r)
            if isinstance(e, MessageTooLongError):
                e.data = buf[:n]
                if with_sender:
                    e.addr = sender.value.decode("utf-8", "replace")
            fut.set_exception(e)
            return True

        return attempt

    async def _read_one(self, n: Any, with_sender: bool) -> Any:
        if type(n) is not int:
            n = _size(n, "read()")
        if n < 0:
            raise ValueError("negative read size")
        for i, kept in enumerate(self._kept):
            if isinstance(kept, tuple) == with_sender:
                del self._kept[i]
                return kept
        attempt = self._datagram(n, with_sender)
        probe: "asyncio.Future[Any]" = self._loop.create_future()
        if attempt(probe):
            return probe.result()
        return await self._wait(False, attempt)

    async def read_from(self, n: int = _SCRATCH) -> Tuple[bytes, str]:
        """Waits for one datagram and returns ``(data, sender)``; the
        sender is "" for an unnamed Unix socket. A datagram longer than
        ``n`` raises MessageTooLongError (with .data and .addr)."""
        result: Tuple[bytes, str] = await self._read_one(n, True)
        return result

    recvfrom = read_from

    async def read(self, n: int = _SCRATCH) -> bytes:
        """Reads one datagram of up to ``n`` bytes, dropping its sender.
        ``b""`` is an empty datagram, not an end of stream."""
        result: bytes = await self._read_one(n, False)
        return result

    recv = read

    async def readinto(self, buffer: Any) -> int:
        """Reads one datagram into a writable buffer and returns its length."""
        n = _writable(buffer, "readinto()")
        data = await self.read(n)
        with memoryview(buffer) as mv, mv.cast("B") as mb:
            mb[: len(data)] = data
        return len(data)

    async def write_to(self, data: Any, addr: Text) -> int:
        """Sends ``data`` as one datagram to ``addr`` ("127.0.0.1:9000",
        "[::1]:9000", a path, "@name", or a host name, which is looked up
        on the dial pool) and returns its length."""
        dest = _encode(addr, "address")
        keeper, address, n = _address(data)
        length = _lens_get(n) or _len(n)
        ah = self._ah

        def once() -> int:
            r: int = _raw_try_write_to(ah, ctypes.c_void_p(address) if n else None, length, dest)
            return r

        r = once()
        if r >= 0:
            return r
        if r != NET_EAGAIN:
            e = _error(r)
            if "would need a lookup" not in e.message:
                raise e
            # A host name: the blocking call looks it up, off the loop (the
            # closure keeps the data alive until it is done).
            h = self._h

            def blocking() -> int:
                r: int = _c.net_write_to(h, ctypes.c_void_p(address) if n else None, n, dest)
                assert keeper is not None or n == 0
                return r

            return await _in_pool(blocking, _nothing, _nothing)
        if self._unixgram:
            while True:
                await asyncio.sleep(0.001)
                r = once()
                if r != NET_EAGAIN:
                    return _check(r)

        def attempt(fut: "asyncio.Future[Any]") -> bool:
            r = once()
            if r == NET_EAGAIN:
                return False
            if r < 0:
                fut.set_exception(_error(r))
            else:
                fut.set_result(r)
            return True

        sent2: int = await self._wait(True, attempt)
        del keeper
        return sent2

    sendto = write_to


class Listener(_Handle):
    """A listener (Go's ``net.Listener``) on an event loop: ``await
    accept()``, or ``async for conn in listener`` until it is closed."""

    __slots__ = ("_kept",)

    def __init__(self, blocking: Any, loop: Optional[asyncio.AbstractEventLoop] = None) -> None:
        _Handle.__init__(self, blocking, loop)
        self._kept: Deque[Conn] = collections.deque()

    def __repr__(self) -> str:
        return "<gonet.aio.Listener handle=%d%s>" % (self._h, " closed" if self._closed else "")

    def _keep(self, result: Any) -> None:
        self._kept.append(result)

    def _attempt(self, fut: "asyncio.Future[Any]") -> bool:
        r: int = _c.net_try_accept(self._h)
        if r == NET_EAGAIN:
            return False
        if r < 0:
            fut.set_exception(_error(r))
        else:
            fut.set_result(Conn(_BlockingConn(r), self._loop))
        return True

    async def accept(self) -> Conn:
        """Waits for and returns the next connection. The read deadline
        bounds the wait (DeadlineExceededError); close() ends it with
        ClosedError."""
        if self._kept:
            return self._kept.popleft()
        probe: "asyncio.Future[Any]" = self._loop.create_future()
        if self._attempt(probe):
            conn: Conn = probe.result()
            return conn
        accepted: Conn = await self._wait(False, self._attempt)
        return accepted

    def __aiter__(self) -> "Listener":
        return self

    async def __anext__(self) -> Conn:
        """The next connection; the iteration ends when the listener is
        closed (other errors are raised)."""
        try:
            return await self.accept()
        except ClosedError:
            if self._closed:
                raise StopAsyncIteration from None
            raise

    def _close(self) -> None:
        _Handle._close(self)
        # Connections accepted for cancelled accepts nobody took.
        while self._kept:
            self._kept.popleft()._close()


# Which class dial() returns, for type checkers.
_StreamNetwork = Literal["tcp", "tcp4", "tcp6", "unix"]
_PacketNetwork = Literal["udp", "udp4", "udp6", "unixgram"]


@overload
async def dial(network: _StreamNetwork, address: Text, timeout: Seconds = None) -> Conn: ...
@overload
async def dial(network: _PacketNetwork, address: Text, timeout: Seconds = None) -> PacketConn: ...
@overload
async def dial(network: Text, address: Text, timeout: Seconds = None) -> Union[Conn, PacketConn]: ...


async def dial(network: Text, address: Text, timeout: Seconds = None) -> Union[Conn, PacketConn]:
    """Connects to ``address`` on ``network`` as gonet.dial does, without
    blocking the loop: a Conn, or a PacketConn on the datagram networks.
    ``timeout`` in seconds bounds the whole dial (None: as long as the
    system takes). The dial runs on the dial pool (at most DIAL_THREADS
    threads); cancelling the awaiting task cancels the dial at once and
    closes anything it connected. Raises the errors gonet.dial raises."""
    net = _encode(network, "network")
    addr = _encode(address, "address")
    ms = _deadline_ms(timeout, "timeout", "no timeout")
    loop = asyncio.get_running_loop()
    d = _check(_c.net_dialer_new())
    try:
        _check(_c.net_dialer_set_timeout(d, ms))
        h = await _in_pool(lambda: int(_c.net_dialer_dial(d, net, addr)), lambda: _c.net_dialer_cancel(d), _close_handle)
    finally:
        # A dial still running was cancelled above; closing the dialer
        # cancels too, and its handle is never reused.
        _c.net_close(d)
    if net in _PACKET_NETWORKS or net.rpartition(b":")[0] in _IP_NETWORKS:
        return PacketConn(_BlockingPacketConn(h), loop)
    return Conn(_BlockingConn(h), loop)


async def listen(network: Text, address: Text) -> Listener:
    """Listens as gonet.listen does ("tcp", "tcp4", "tcp6", "unix"),
    without blocking the loop: a host name is looked up on the dial pool.
    AddressError for a datagram network (use listen_packet)."""
    net = _encode(network, "network")
    addr = _encode(address, "address")
    loop = asyncio.get_running_loop()
    if net in _PACKET_NETWORKS:
        # The blocking API's message, which names listen_packet.
        _blocking_listen(net, addr)
    h = await _in_pool(lambda: int(_c.net_listen(net, addr)), _nothing, _close_handle)
    return Listener(_BlockingListener(h), loop)


async def listen_packet(network: Text, address: Text) -> PacketConn:
    """Go's ``ListenPacket``, as gonet.listen_packet, without blocking the
    loop: a PacketConn that sends to and receives from anybody."""
    net = _encode(network, "network")
    addr = _encode(address, "address")
    loop = asyncio.get_running_loop()
    h = await _in_pool(lambda: int(_c.net_listen_packet(net, addr)), _nothing, _close_handle)
    return PacketConn(_BlockingPacketConn(h), loop, unixgram=net == b"unixgram")
