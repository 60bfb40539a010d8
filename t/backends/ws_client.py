#!/usr/bin/python3
# ws_client.py -- a WebSocket client the t/ws tests drive (through
# t/lib/PrxWs.pm), built on Debian's python3-websockets. It holds any
# number of named connections and obeys one JSON command per line on
# stdin, answering one JSON line on stdout per command:
#
#   {"op": "open", "name": N, "url": U, "headers": [[k, v]...],
#    "timeout": S, "ca": FILE}
#       -> {"ok": 1, "status": 101, "headers": [[k, v]...]} or
#          {"ok": 0, "error": E, "status": S, "headers": [...]}
#   {"op": "send", "name": N, "text": T} or {..., "size": B, "binary": 1,
#    "fragments": K}         a message (K > 1: sent as K fragments)
#       -> {"ok": 1, "len": L, "sha1": H}
#   {"op": "recv", "name": N, "timeout": S}
#       -> {"ok": 1, "type": "text"|"binary", "len": L, "sha1": H,
#           "text": T (short text messages)}
#   {"op": "echo", ... as send ...}   send, then the next message must be
#       the same: -> {"ok": 1, "match": 0|1, "len": L}
#   {"op": "ping", "name": N, "timeout": S}  -> {"ok": 1, "rtt": secs}
#   {"op": "close", "name": N, "code": C, "reason": R}
#       -> {"ok": 1, "code": C, "reason": R} (what the peer answered)
#   {"op": "wait_closed", "name": N, "timeout": S}
#       -> {"ok": 1, "code": C, "reason": R} (the peer closed)
#   {"op": "abort", "name": N}   drop the TCP connection, no close handshake
#   {"op": "quit"}
# Errors of a command give {"ok": 0, "error": "..."}.
# Generated payloads are deterministic (a counter pattern), so both ends
# can compare SHA-1 digests instead of shipping megabytes through JSON.

import asyncio
import hashlib
import json
import ssl
import sys
import time

import websockets

conns = {}


def payload(size, binary):
    unit = b"".join(b"%07d\n" % i for i in range(1024))
    data = (unit * (size // len(unit) + 1))[:size]
    return data if binary else data.decode()


def split(msg, k):
    if k <= 1:
        return msg
    step = max(1, len(msg) // k)
    parts = [msg[i:i + step] for i in range(0, len(msg), step)]
    return parts


def digest(msg):
    data = msg.encode() if isinstance(msg, str) else msg
    return len(data), hashlib.sha1(data).hexdigest()


def message_of(c):
    if "text" in c:
        return c["text"]
    return payload(int(c.get("size", 0)), bool(c.get("binary")))


async def op_open(c):
    ctx = None
    if c["url"].startswith("wss:"):
        ctx = ssl.create_default_context(cafile=c.get("ca"))
    try:
        ws = await websockets.connect(
            c["url"], extra_headers=[tuple(h) for h in c.get("headers", [])],
            ssl=ctx, max_size=None, max_queue=64, compression=None,
            ping_interval=None, close_timeout=5,
            open_timeout=c.get("timeout", 10))
    except websockets.InvalidStatusCode as e:
        hdrs = getattr(e, "headers", None)
        return {"ok": 0, "error": str(e), "status": e.status_code,
                "headers": [list(h) for h in hdrs.raw_items()] if hdrs else []}
    except Exception as e:
        return {"ok": 0, "error": "%s: %s" % (type(e).__name__, e)}
    conns[c["name"]] = ws
    return {"ok": 1, "status": 101,
            "headers": [list(h) for h in ws.response_headers.raw_items()]}


async def op_send(c):
    msg = message_of(c)
    await conns[c["name"]].send(split(msg, int(c.get("fragments", 1))))
    n, h = digest(msg)
    return {"ok": 1, "len": n, "sha1": h}


async def op_recv(c):
    msg = await asyncio.wait_for(conns[c["name"]].recv(), c.get("timeout", 10))
    n, h = digest(msg)
    out = {"ok": 1, "type": "text" if isinstance(msg, str) else "binary",
           "len": n, "sha1": h}
    if isinstance(msg, str) and n <= 4096:
        out["text"] = msg
    return out


async def op_echo(c):
    msg = message_of(c)
    ws = conns[c["name"]]
    await ws.send(split(msg, int(c.get("fragments", 1))))
    got = await asyncio.wait_for(ws.recv(), c.get("timeout", 20))
    return {"ok": 1, "match": 1 if got == msg else 0, "len": digest(got)[0]}


async def op_ping(c):
    t0 = time.time()
    pong = await conns[c["name"]].ping(c.get("data", "prx"))
    await asyncio.wait_for(pong, c.get("timeout", 10))
    return {"ok": 1, "rtt": time.time() - t0}


async def op_close(c):
    ws = conns[c["name"]]
    await ws.close(int(c.get("code", 1000)), c.get("reason", ""))
    return {"ok": 1, "code": ws.close_code, "reason": ws.close_reason}


async def op_wait_closed(c):
    ws = conns[c["name"]]
    await asyncio.wait_for(ws.wait_closed(), c.get("timeout", 10))
    return {"ok": 1, "code": ws.close_code, "reason": ws.close_reason}


async def op_abort(c):
    # the TCP connection goes away without a close handshake
    conns[c["name"]].transport.abort()
    return {"ok": 1}


OPS = {"abort": op_abort, "open": op_open, "send": op_send, "recv": op_recv, "echo": op_echo,
       "ping": op_ping, "close": op_close, "wait_closed": op_wait_closed}


async def main():
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            break
        c = json.loads(line)
        if c.get("op") == "quit":
            break
        try:
            out = await OPS[c["op"]](c)
        except Exception as e:
            out = {"ok": 0, "error": "%s: %s" % (type(e).__name__, e)}
        sys.stdout.write(json.dumps(out, sort_keys=True) + "\n")
        sys.stdout.flush()
    for ws in conns.values():
        try:
            await asyncio.wait_for(ws.close(), 2)
        except Exception:
            pass


asyncio.run(main())
