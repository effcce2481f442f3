#!/usr/bin/env python3
"""A fleet of N cheap loopback HTTP targets in one process (for scale tests).

Owns: N listening sockets, one per loopback address (127.1.0.1, 127.1.0.2, ...
by default; Linux answers on all of 127.0.0.0/8 without configuration), all
served by ONE asyncio event loop in one thread, so 1,000 targets cost ~1,000
file descriptors and almost no CPU while idle. Each target is real for the
emulator's health checker and data plane: `GET <any path>` -> 200 with
`X-App-Version` and `X-Target: IP:PORT` (the health path too; with
`error_rate`, that share of other requests gets a 500, spread evenly, so a
bad version stays healthy but fails requests, as a bad release does), and a target
is healthy only because its socket answers; `stop_target(i)` closes one so
its health checks fail. One address per target because moto keys a target
group's targets by Id (IP) alone.

CLI: `fleet.py --count 1000 [--base 127.1.0.1] [--version v1] [--port 0]
[--exit-on-stdin-eof]` prints ONE JSON line
`{"targets":[{"Id":"127.1.0.1","Port":40123},...]}` (ready for
RegisterTargets) and serves until killed (or stdin closes).
Importable: `fleet = start_fleet(1000); fleet.targets; fleet.stop()`.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import os
import signal
import sys
import threading
from typing import Any

MAX_TARGETS = 5000  # bound: each target holds one file descriptor


def addresses(count: int, base: str = "127.1.0.1") -> list[str]:
    first = ipaddress.IPv4Address(base)
    out = [str(first + i) for i in range(count)]
    if not all(ipaddress.ip_address(a).is_loopback for a in out):
        raise ValueError("every fleet address must be in 127.0.0.0/8")
    return out


class Fleet:
    def __init__(self, count: int, base: str = "127.1.0.1", version: str = "v1", port: int = 0,
                 error_rate: float = 0.0, health_path: str = "/health") -> None:
        if not 1 <= count <= MAX_TARGETS:
            raise ValueError(f"count must be 1..{MAX_TARGETS}")
        self.ips = addresses(count, base)
        self.version = version
        self.want_port = port
        self.targets: list[dict[str, Any]] = []
        self.requests = 0
        self.error_rate = error_rate
        self.health_path = health_path.encode()
        self._errors_owed = 0.0
        self._servers: list[asyncio.base_events.Server] = []
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="fleet", daemon=True)

    def start(self) -> "Fleet":
        self._thread.start()
        self._ready.wait(60)
        if self._error:
            raise self._error
        return self

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._open())
        except BaseException as e:  # noqa: BLE001 - reported to start()
            self._error = e
            self._ready.set()
            return
        self._ready.set()
        self._loop.run_forever()

    async def _open(self) -> None:
        port = self.want_port
        for ip in self.ips:
            try:
                server = await asyncio.start_server(self._serve, ip, port, backlog=64)
            except OSError:
                if port == 0:
                    raise
                server = await asyncio.start_server(self._serve, ip, 0, backlog=64)
            bound = server.sockets[0].getsockname()[1]
            # all targets on one port when it is free on every address: shorter lists, same cost
            port = port or bound
            self._servers.append(server)
            self.targets.append({"Id": ip, "Port": bound})

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            length = 0
            for line in head.split(b"\r\n")[1:]:
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1].strip() or 0)
            if length:
                await reader.readexactly(length)
            ip, port = writer.get_extra_info("sockname")[:2]
            self.requests += 1
            status = b"200 OK"
            path = head.split(b" ", 2)[1] if head.count(b" ") >= 2 else b"/"
            if self.error_rate and path.split(b"?")[0] != self.health_path:
                self._errors_owed += self.error_rate
                if self._errors_owed >= 1.0:
                    self._errors_owed -= 1.0
                    status = b"500 Internal Server Error"
            body = f"{self.version} {ip}:{port}\n".encode()
            writer.write(b"HTTP/1.1 " + status + b"\r\nContent-Type: text/plain\r\nConnection: close\r\n"
                         b"X-App-Version: " + self.version.encode() + b"\r\nX-Target: " + f"{ip}:{port}".encode()
                         + b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
            await writer.drain()
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, asyncio.TimeoutError, ValueError):
            pass
        finally:
            writer.close()

    def stop_target(self, index: int) -> None:
        """Close one target's socket: its health checks then fail (connection refused)."""
        server = self._servers[index]
        asyncio.run_coroutine_threadsafe(self._close(server), self._loop).result(10)

    @staticmethod
    async def _close(server: asyncio.base_events.Server) -> None:
        server.close()
        await server.wait_closed()

    def stop(self) -> None:
        async def close_all() -> None:
            for s in self._servers:
                s.close()

        if self._loop.is_running():
            asyncio.run_coroutine_threadsafe(close_all(), self._loop).result(30)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)


def start_fleet(count: int, base: str = "127.1.0.1", version: str = "v1", port: int = 0,
                error_rate: float = 0.0) -> Fleet:
    return Fleet(count, base, version, port, error_rate).start()


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="N loopback HTTP targets in one process")
    p.add_argument("--count", type=int, default=1000)
    p.add_argument("--base", default="127.1.0.1", help="first address; the rest follow (127.0.0.0/8 only)")
    p.add_argument("--version", default="v1", help="X-App-Version of every response")
    p.add_argument("--port", type=int, default=0, help="port on every address (0: one free port, reused)")
    p.add_argument("--exit-on-stdin-eof", action="store_true")
    a = p.parse_args(argv)
    try:
        fleet = start_fleet(a.count, a.base, a.version, a.port)
    except ValueError as e:
        p.error(str(e))
    print(json.dumps({"targets": fleet.targets}), flush=True)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    try:
        if a.exit_on_stdin_eof:
            sys.stdin.read()
        else:
            threading.Event().wait()
    except KeyboardInterrupt:
        pass
    os._exit(0)


if __name__ == "__main__":
    main()
