"""A TCP proxy that adds network latency: PostgreSQL "on another host" for the benchmarks.

On loopback a round trip to PostgreSQL costs ~0.05 ms, so a bench on this machine cannot show
what the number of round trips per article costs where the database is on another host (a
replica set shares one PostgreSQL, usually over a network: 0.2-1 ms a round trip). This proxy
listens on 127.0.0.1 and forwards every connection to the real server, holding each chunk of
bytes `--delay-ms / 2` in each direction (order kept), so every round trip takes `--delay-ms`
longer. The kernel's own way (`tc netem`) is not available on this machine kind.

    .venv/bin/python -m bench.latency_proxy --listen 15432 --target 127.0.0.1:5432 --delay-ms 0.5
    MONITOR_TEST_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:15432/postgres \\
        .venv/bin/python -m bench.bench_write --backend postgres
"""

from __future__ import annotations

import argparse
import contextlib
import queue
import socket
import threading
import time


def _pipe(source: socket.socket, target: socket.socket, delay: float) -> None:
    """Copy `source` to `target`, each chunk sent `delay` seconds after it arrived (threads and
    `time.sleep`: event-loop timers have a resolution of a millisecond)."""
    chunks: queue.SimpleQueue[tuple[float, bytes]] = queue.SimpleQueue()

    def release() -> None:
        while True:
            due, chunk = chunks.get()
            if not chunk:
                break
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            try:
                target.sendall(chunk)
            except OSError:
                break
        with contextlib.suppress(OSError):
            target.shutdown(socket.SHUT_WR)

    sender = threading.Thread(target=release, daemon=True)
    sender.start()
    try:
        while chunk := source.recv(65536):
            chunks.put((time.monotonic() + delay, chunk))
    except OSError:
        pass
    chunks.put((0.0, b""))
    sender.join()


def _connection(client: socket.socket, host: str, port: int, delay: float) -> None:
    try:
        server = socket.create_connection((host, port))
    except OSError:
        client.close()
        return
    for sock in (client, server):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    back = threading.Thread(target=_pipe, args=(server, client, delay / 2), daemon=True)
    back.start()
    _pipe(client, server, delay / 2)
    back.join()
    client.close()
    server.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--listen", type=int, default=15432)
    parser.add_argument("--target", default="127.0.0.1:5432")
    parser.add_argument("--delay-ms", type=float, default=0.5, help="added to every round trip")
    args = parser.parse_args()
    host, port = args.target.rsplit(":", 1)
    listener = socket.create_server(("127.0.0.1", args.listen))
    while True:
        client, _ = listener.accept()
        threading.Thread(
            target=_connection,
            args=(client, host, int(port), args.delay_ms / 1000),
            daemon=True,
        ).start()


if __name__ == "__main__":
    main()
