#!/usr/bin/env python3
"""The helpers of tests/crash/crash.sh, standard library only.

    crashkit.py free-port
    crashkit.py sink --port P --log FILE [--open-file FILE] [--port-file FILE] [--with-time-and-helo]
                                                             an SMTP sink: each accepted message's RCPT TO, one per line
                                                             (bench/scaleout.sh takes the time and EHLO name too)
    crashkit.py burst --url URL --out FILE --prefix P        concurrent JSON signups; each one answered 202, one per line
    crashkit.py wait-http URL --timeout S                    until the URL answers at all
    crashkit.py fanout-report --db DB --log FILE --mailing M  who got 0, 1 or 2+ messages (JSON)
    crashkit.py burst-report --db DB --accepted FILE          which 202-answered signups are missing from the store (JSON)
"""
import argparse
import asyncio
import http.client
import json
import os
import socket
import sqlite3
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter


def free_port(_):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        print(s.getsockname()[1])


def sink(args):
    """Accepts every message. A message's recipients are written (and flushed) before its 250, like a server that
    queued it: a client that dies after this line and before reading the 250 has delivered it, as with a real relay.
    Each line is the recipient, or with --with-time-and-helo "<unix time>\t<EHLO name of the client>\t<recipient>" so
    that messages can be counted per recipient and per sending instance. --open-file: the number of open connections,
    kept up to date. --port 0 takes a free port; --port-file receives the port once listening."""
    log = open(args.log, "a", buffering=1)
    state = {"open": 0}

    def write_open():
        if not args.open_file:
            return
        with open(args.open_file + ".tmp", "w") as f:
            f.write(str(state["open"]))
        os.replace(args.open_file + ".tmp", args.open_file)

    def line_of(helo, recipient):
        return f"{time.time():.3f}\t{helo}\t{recipient}\n" if args.with_time_and_helo else recipient + "\n"

    async def session(reader, writer):
        state["open"] += 1
        write_open()
        recipients = []
        helo = "-"
        try:
            writer.write(b"220 crash-sink ESMTP\r\n")
            while True:
                line = await reader.readline()
                if not line:
                    break
                verb = line[:4].upper()
                if verb == b"EHLO":
                    helo = line[5:].strip().decode("utf-8", "replace") or "-"
                    writer.write(b"250-crash-sink\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 52428800\r\n")
                elif verb == b"HELO":
                    helo = line[5:].strip().decode("utf-8", "replace") or "-"
                    writer.write(b"250 crash-sink\r\n")
                elif verb == b"MAIL":
                    recipients = []
                    writer.write(b"250 2.1.0 Ok\r\n")
                elif verb == b"RCPT":
                    text = line.decode("utf-8", "replace")
                    recipients.append(text[text.index("<") + 1:text.index(">")].lower())
                    writer.write(b"250 2.1.5 Ok\r\n")
                elif verb == b"DATA":
                    writer.write(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    await writer.drain()
                    await reader.readuntil(b"\r\n.\r\n")
                    log.write("".join(line_of(helo, r) for r in recipients))
                    recipients = []
                    writer.write(b"250 2.0.0 Ok: queued\r\n")
                elif verb == b"RSET":
                    recipients = []
                    writer.write(b"250 2.0.0 Ok\r\n")
                elif verb == b"NOOP":
                    writer.write(b"250 2.0.0 Ok\r\n")
                elif verb == b"QUIT":
                    writer.write(b"221 2.0.0 Bye\r\n")
                    await writer.drain()
                    break
                else:
                    writer.write(b"502 5.5.2 Error: command not recognized\r\n")
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            state["open"] -= 1
            write_open()
            writer.close()

    async def main():
        server = await asyncio.start_server(session, "127.0.0.1", args.port, limit=64 * 1024 * 1024)
        write_open()
        if args.port_file:
            with open(args.port_file + ".tmp", "w") as f:
                f.write(f"{server.sockets[0].getsockname()[1]}\n")
            os.replace(args.port_file + ".tmp", args.port_file)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def burst(args):
    """Signs up new addresses from many threads until stopped or the server stays away; records each 202."""
    url = urllib.parse.urlsplit(args.url)
    out = open(args.out, "a", buffering=1)
    lock = threading.Lock()
    counter = iter(range(10**9))
    stop = threading.Event()

    def client():
        connection = None
        failures = 0
        while not stop.is_set():
            with lock:
                n = next(counter)
            email = f"{args.prefix}{n}@example.org"
            body = json.dumps({"email": email, "platforms": ["facebook"], "locale": "de"})
            try:
                if connection is None:
                    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
                connection.request("POST", "/subscribe", body, {"Content-Type": "application/json"})
                response = connection.getresponse()
                response.read()
                failures = 0
                if response.status == 202:
                    with lock:
                        out.write(email + "\n")
                elif response.status >= 500:
                    print(f"burst: {response.status} for {email}", file=sys.stderr)
            except (OSError, http.client.HTTPException):
                connection = None
                failures += 1
                if failures > 50:
                    return
                time.sleep(0.1)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(args.clients)]
    for t in threads:
        t.start()
    try:
        for t in threads:
            t.join()
    except KeyboardInterrupt:
        stop.set()


def wait_http(args):
    deadline = time.time() + args.timeout
    while time.time() < deadline:
        try:
            urllib.request.urlopen(args.url, timeout=5).read()
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    sys.exit(f"{args.url} did not answer within {args.timeout} s")


def connect(db):
    connection = sqlite3.connect(db, timeout=30)
    connection.execute("PRAGMA busy_timeout = 30000")
    return connection


def fanout_report(args):
    with connect(args.db) as db:
        confirmed = {row[0].lower() for row in db.execute("SELECT email FROM subscribers WHERE status = 'confirmed'")}
        statuses = dict(db.execute("SELECT status, COUNT(*) FROM deliveries WHERE mailing = ? GROUP BY status", (args.mailing,)).fetchall())
    received = Counter(line.strip() for line in open(args.log) if line.strip())
    print(json.dumps({
        "subscribers": len(confirmed),
        "messages": sum(received.values()),
        "none": len(confirmed - received.keys()),
        "twice_or_more": sum(1 for n in received.values() if n >= 2),
        "strangers": len(received.keys() - confirmed),
        "ledger": statuses,
    }))


def burst_report(args):
    accepted = [line.strip().lower() for line in open(args.accepted) if line.strip()]
    with connect(args.db) as db:
        stored = {row[0].lower() for row in db.execute("SELECT email FROM subscribers")}
        consents = {row[0].lower() for row in db.execute("SELECT s.email FROM consents c JOIN subscribers s ON s.id = c.subscriber_id")}
    print(json.dumps({
        "accepted": len(accepted),
        "stored": len(stored),
        "missing": len([a for a in accepted if a not in stored]),
        "without_consent": len([a for a in accepted if a not in consents]),
    }))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("free-port").set_defaults(run=free_port)
    p = commands.add_parser("sink")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--open-file")
    p.add_argument("--port-file")
    p.add_argument("--with-time-and-helo", action="store_true")
    p.set_defaults(run=sink)
    p = commands.add_parser("burst")
    p.add_argument("--url", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--prefix", required=True)
    p.add_argument("--clients", type=int, default=32)
    p.set_defaults(run=burst)
    p = commands.add_parser("wait-http")
    p.add_argument("url")
    p.add_argument("--timeout", type=float, default=120)
    p.set_defaults(run=wait_http)
    p = commands.add_parser("fanout-report")
    p.add_argument("--db", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--mailing", default="announcement")
    p.set_defaults(run=fanout_report)
    p = commands.add_parser("burst-report")
    p.add_argument("--db", required=True)
    p.add_argument("--accepted", required=True)
    p.set_defaults(run=burst_report)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
