#!/usr/bin/python3
# ws_echo.py -- a real WebSocket origin for the t/ws tests, built on
# Debian's python3-websockets (RFC 6455: framing, fragmentation, ping/pong
# and the close handshake are the library's, not ours). It echoes every
# message back with its type, and records what it got (PrxBackend's record
# format, one JSON line each) so a test can check the origin's side:
#   kind "handshake": request_line, method, target, headers ([name, value]
#                     in wire order), conn (connection number), peer
#   kind "message":   conn, type (text|binary), len, sha1
#   kind "close":     conn, code, reason (what the client's close carried)
#
# Per path:
#   /refuse/<status>  no upgrade: answers <status> (200, 400, 426, ...)
#                     with a small body and X-Refused: <status>
#   /hello            sends "hello" right after the handshake
#   anything else     a WebSocket that echoes
# Text messages that are commands instead of data:
#   __push <ms> <text>     answers "pushed", then sends <text> after <ms>
#   __close <code> <why>   the origin starts the close handshake
#   __frag <k> <size>      sends <size> bytes of PrxBackend::filler as one
#                          binary message in <k> fragments
#   __info                 answers the handshake record as JSON
#
# Command line (PrxTest::backend passes the first four):
#   --port N --record F --parent-pid P --log F
#   --tls-cert F --tls-key F   serve wss:// (TLS) instead of ws://
# Prints "READY <port>" on stdout once listening, then closes stdout.

import argparse
import asyncio
import hashlib
import http
import json
import os
import signal
import ssl
import sys
import time

import websockets
from websockets.datastructures import Headers

opts = None
conn_seq = 0


def record(rec):
    rec.setdefault("backend", "ws_echo")
    rec.setdefault("time", time.time())
    rec.setdefault("pid", os.getpid())
    with open(opts.record, "a") as f:
        f.write(json.dumps(rec, sort_keys=True) + "\n")


def log(msg):
    sys.stderr.write("[%.3f] ws_echo[%d]: %s\n" % (time.time(), os.getpid(), msg))
    sys.stderr.flush()


def filler(n):
    # the same bytes as PrxBackend::filler(n)
    unit = b"".join(b"%07d\n" % i for i in range(1024))
    return (unit * (n // len(unit) + 1))[:n]


def raw_headers(h):
    return [[k, v] for k, v in h.raw_items()]


async def process_request(path, request_headers):
    global conn_seq
    conn_seq += 1
    # the handshake record; the connection handler finds it by id
    rec = {
        "kind": "handshake",
        "conn": conn_seq,
        "seq": 1,
        "request_line": "GET %s HTTP/1.1" % path,
        "method": "GET",
        "target": path,
        "version": "HTTP/1.1",
        "headers": raw_headers(request_headers),
        "port": opts.port,
    }
    if path.startswith("/refuse/"):
        status = int(path.split("/")[2] or 400)
        rec["refused"] = status
        record(rec)
        body = ("not upgrading: %d\n" % status).encode()
        return (http.HTTPStatus(status), Headers([("Content-Type", "text/plain"),
                                 ("X-Refused", str(status))]), body)
    record(rec)
    request_headers["X-Prx-Conn"] = str(conn_seq)
    return None


async def handler(ws, path):
    conn = int(ws.request_headers.get("X-Prx-Conn", "0"))
    info = {"conn": conn, "target": path,
            "headers": [h for h in raw_headers(ws.request_headers)
                        if h[0] != "X-Prx-Conn"]}
    pushes = []
    try:
        if path.startswith("/hello"):
            await ws.send("hello")
        async for msg in ws:
            kind = "text" if isinstance(msg, str) else "binary"
            data = msg.encode() if kind == "text" else msg
            record({"kind": "message", "conn": conn, "type": kind,
                    "len": len(data), "sha1": hashlib.sha1(data).hexdigest()})
            if kind == "text" and msg.startswith("__push "):
                _, ms, text = msg.split(" ", 2)

                async def later(ms=int(ms), text=text):
                    await asyncio.sleep(ms / 1000)
                    await ws.send(text)
                pushes.append(asyncio.ensure_future(later()))
                await ws.send("pushed")
            elif kind == "text" and msg.startswith("__close "):
                _, code, why = (msg.split(" ", 2) + [""])[:3]
                await ws.close(int(code), why)
            elif kind == "text" and msg.startswith("__frag "):
                _, k, size = msg.split(" ")
                data = filler(int(size))
                step = max(1, len(data) // int(k))
                await ws.send([data[i:i + step]
                               for i in range(0, len(data), step)])
            elif kind == "text" and msg == "__info":
                await ws.send(json.dumps(info, sort_keys=True))
            else:
                await ws.send(msg)
    except websockets.ConnectionClosed:
        pass
    finally:
        for p in pushes:
            p.cancel()
        record({"kind": "close", "conn": conn, "code": ws.close_code,
                "reason": ws.close_reason})


async def watch_parent():
    while True:
        await asyncio.sleep(0.5)
        if opts.parent_pid:
            try:
                os.kill(opts.parent_pid, 0)
            except ProcessLookupError:
                os._exit(0)
            except PermissionError:
                pass


async def main():
    # stopped like the other backends: SIGTERM ends it (status 0)
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM,
                                                  lambda: os._exit(0))
    ctx = None
    if opts.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(opts.tls_cert, opts.tls_key)
    server = await websockets.serve(
        handler, "127.0.0.1", opts.port, ssl=ctx,
        process_request=process_request, max_size=None, max_queue=64,
        compression=None, ping_interval=None, close_timeout=5)
    port = server.sockets[0].getsockname()[1]
    opts.port = port
    log("listening on 127.0.0.1:%d%s" % (port, " (TLS)" if ctx else ""))
    sys.stdout.write("READY %d\n" % port)
    sys.stdout.flush()
    os.close(1)
    os.open(os.devnull, os.O_WRONLY)
    await watch_parent()


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--record", default=os.devnull)
    ap.add_argument("--parent-pid", type=int, default=0)
    ap.add_argument("--log")
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    opts = ap.parse_args()
    if opts.log:
        fd = os.open(opts.log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(fd, 2)
    try:
        os.setpgrp()
    except OSError:
        pass
    asyncio.run(main())
