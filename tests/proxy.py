"""A loopback TCP proxy that cuts connections mid-upload, like a dashcam's link in a tunnel."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress


class CuttingProxy:
    def __init__(self, upstream_port: int, cut_after: int, cuts: int) -> None:
        self.upstream_port = upstream_port
        self.cut_after = cut_after
        self.cuts_left = cuts
        self.cuts_done = 0
        self._lock = threading.Lock()
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._stop = threading.Event()

    def serve(self) -> None:
        self._server.settimeout(0.2)
        while not self._stop.is_set():
            try:
                client, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:  # the listening socket was closed: the proxy is stopping
                break
            threading.Thread(target=self._relay, args=(client,), daemon=True).start()

    def _relay(self, client: socket.socket) -> None:
        upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
        with self._lock:
            cut = self.cuts_left > 0
            self.cuts_left -= int(cut)
        budget = [self.cut_after if cut else -1]

        def pump(src: socket.socket, dst: socket.socket, limited: bool) -> None:
            try:
                while data := src.recv(65536):
                    if limited and budget[0] >= 0:
                        if len(data) >= budget[0]:
                            dst.sendall(data[: budget[0]])
                            with self._lock:
                                self.cuts_done += 1
                            break
                        budget[0] -= len(data)
                    dst.sendall(data)
            except OSError:
                pass
            finally:
                for s in (src, dst):
                    with suppress(OSError):
                        s.shutdown(socket.SHUT_RDWR)
                    s.close()

        threading.Thread(target=pump, args=(upstream, client, False), daemon=True).start()
        pump(client, upstream, True)

    def close(self) -> None:
        self._stop.set()
        self._server.close()


@contextmanager
def cutting_proxy(upstream_port: int, cut_after: int, cuts: int) -> Iterator[CuttingProxy]:
    proxy = CuttingProxy(upstream_port, cut_after, cuts)
    thread = threading.Thread(target=proxy.serve, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        proxy.close()
        thread.join(5)
