#!/usr/bin/env python3
"""echo_server: a line echo server on gonet, one thread per client, or
with --asyncio one event loop serving every client (gonet.aio).

    python3 echo_server.py [--asyncio] [address]        (default ":8088")

Every line a client sends (terminated by "\\n") is printed as
"GET MESSAGE: <text>" and sent back. SIGINT or SIGTERM closes the listener,
which wakes accept(); the server then gives open connections a short grace
period, closes those still open and exits 0. Under systemd's socket
activation (LISTEN_FDS and LISTEN_PID set for this process) it serves the
listener passed as descriptor 3 instead, and the address is not used.
"""

import os
import signal
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gonet  # noqa: E402

MAX_LINE = 1 << 20  # a longer line ends the connection
GRACE = 1.0  # seconds shutdown waits for clients


class Lines:
    """One client's side of the protocol, the same for the threaded and the
    asyncio server: the bytes received, cut into complete lines (each
    logged), with the incomplete rest kept."""

    def __init__(self, peer):
        self.peer = peer
        self.buf = bytearray()

    def feed(self, data):
        """Takes what one read returned: the complete lines to echo, and
        whether to go on (False at end of stream, said in the log, or when
        the rest has grown past MAX_LINE)."""
        if not data:
            if self.buf:
                print("client %s left mid-line (%d bytes dropped)" % (self.peer, len(self.buf)))
            else:
                print("client %s left" % self.peer)
            return [], False
        start = len(self.buf)
        self.buf += data
        lines = []
        pos = 0
        nl = self.buf.find(b"\n", start)
        while nl >= 0:
            line = bytes(self.buf[pos : nl + 1])
            print("GET MESSAGE: %s" % line[:-1].decode("utf-8", "replace"))
            lines.append(line)
            pos = nl + 1
            nl = self.buf.find(b"\n", pos)
        del self.buf[:pos]
        if len(self.buf) > MAX_LINE:
            print("client %s: line longer than %d bytes, closing" % (self.peer, MAX_LINE))
            return lines, False
        return lines, True


class Server:
    def __init__(self, listener):
        self.listener = listener
        self.lock = threading.Lock()
        self.conns = set()  # connections not yet closed
        self.threads = []

    def serve_client(self, conn, peer):
        lines = Lines(peer)
        try:
            while True:
                echo, more = lines.feed(conn.read(65536))
                for line in echo:
                    conn.write(line)
                if not more:
                    return
        except gonet.GonetError as e:
            print("client %s: %s" % (peer, e))
        finally:
            with self.lock:
                mine = conn in self.conns
                self.conns.discard(conn)
            if mine:
                conn.close()

    def run(self):
        while True:
            try:
                conn = self.listener.accept()
            except gonet.ClosedError:
                return  # the signal closed the listener
            except gonet.GonetError as e:
                print("accept: %s" % e, file=sys.stderr)
                threading.Event().wait(0.1)  # e.g. out of file descriptors
                continue
            try:
                peer = conn.remote_addr
            except gonet.GonetError:
                peer = "#%d" % conn.handle
            print("client %s connected" % peer)
            with self.lock:
                self.conns.add(conn)
            t = threading.Thread(target=self.serve_client, args=(conn, peer), daemon=True)
            self.threads = [x for x in self.threads if x.is_alive()]
            self.threads.append(t)
            t.start()

    def drain(self):
        """After the listener closed: waits up to GRACE for the clients,
        then closes the connections still open and waits for their threads."""
        for t in list(self.threads):
            t.join(GRACE)
        with self.lock:
            left = list(self.conns)
            self.conns.clear()
        if left:
            print("closing %d open connection(s)" % len(left))
        for conn in left:
            conn.close()  # wakes the client thread blocked on it
        for t in self.threads:
            t.join(5)


async def serve_client_async(conn, peer):
    """The asyncio variant of Server.serve_client: the same protocol and
    log lines, one task per client."""
    lines = Lines(peer)
    try:
        while True:
            echo, more = lines.feed(await conn.read(65536))
            for line in echo:
                await conn.write(line)
            if not more:
                return
    except gonet.GonetError as e:
        print("client %s: %s" % (peer, e))
    finally:
        await conn.close()


async def main_async(address):
    import asyncio

    import gonet.aio

    try:
        listener = await gonet.aio.listen("tcp", address)
    except gonet.GonetError as e:
        print("echo_server: %s" % e, file=sys.stderr)
        return 1
    print("listening on %s" % listener.local_addr)
    loop = asyncio.get_running_loop()

    def stop(sig):
        print("received %s, shutting down" % sig.name)
        loop.create_task(listener.close())

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop, sig)
    clients = set()
    async for conn in listener:
        try:
            peer = conn.remote_addr
        except gonet.GonetError:
            peer = "#%d" % conn.handle
        print("client %s connected" % peer)
        task = loop.create_task(serve_client_async(conn, peer))
        clients.add(task)
        task.add_done_callback(clients.discard)
    # The listener is closed: a grace period for the clients, then the
    # rest are cancelled, which closes their connections.
    if clients:
        done, left = await asyncio.wait(set(clients), timeout=GRACE)
        if left:
            print("closing %d open connection(s)" % len(left))
            for task in left:
                task.cancel()
            await asyncio.wait(left, timeout=5)
    print("server stopped")
    return 0
def activated_listener():
    """The listener systemd passed (socket activation: LISTEN_FDS
    descriptors from 3 on, for the process LISTEN_PID), adopted as a gonet
    Listener; None when none was passed. The variables are then removed,
    so that programs this one starts do not take them as theirs."""
    if os.environ.get("LISTEN_PID") != str(os.getpid()):
        return None
    try:
        if int(os.environ.get("LISTEN_FDS", "0")) < 1:
            return None
    except ValueError:
        return None
    listener = gonet.file_listener(3)
    os.close(3)  # gonet has its own copy
    for name in ("LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES"):
        os.environ.pop(name, None)
    return listener


def main():
    args = sys.argv[1:]
    use_asyncio = "--asyncio" in args
    args = [a for a in args if a != "--asyncio"]
    address = args[0] if args else ":8088"
    if use_asyncio:
        import asyncio

        sys.stdout.reconfigure(line_buffering=True)
        return asyncio.run(main_async(address))
    # Log lines appear as they happen, even when stdout is a pipe.
    sys.stdout.reconfigure(line_buffering=True)

    # Signals go to a waiting thread, not to a handler: a handler would only
    # run once the main thread leaves a blocking gonet call.
    signals = {signal.SIGINT, signal.SIGTERM}
    signal.pthread_sigmask(signal.SIG_BLOCK, signals)

    try:
        listener = activated_listener() or gonet.listen("tcp", address)
    except gonet.GonetError as e:
        print("echo_server: %s" % e, file=sys.stderr)
        return 1
    print("listening on %s" % listener.local_addr)
    server = Server(listener)

    def wait_for_signal():
        sig = signal.sigwait(signals)
        print("received %s, shutting down" % signal.Signals(sig).name)
        listener.close()

    waiter = threading.Thread(target=wait_for_signal, daemon=True)
    waiter.start()
    server.run()
    server.drain()
    print("server stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
