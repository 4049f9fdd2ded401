#!/usr/bin/env python3
"""A counting SMTP sink for bench/scaleout.sh: accepts every message on 127.0.0.1:PORT and keeps nothing of it but one
line per accepted message and recipient in LOG, so messages per recipient and per sending instance can be counted:

    <unix time>\t<EHLO name of the client>\t<envelope recipient>

    python3 bench/smtp-sink.py --port 2525 --log /tmp/received.tsv
    python3 bench/smtp-sink.py --port 0 --port-file /tmp/sink.port --log /tmp/received.tsv   # a free port, written there

(postfix's smtp-sink answers as fast but cannot count per recipient; python3 has no aiosmtpd here.) A message counts as
received once the sink has answered 250 to its DATA, as a real relay would have taken it on.
"""
import argparse
import asyncio
import time

EHLO_REPLY = b"250-smtp-sink\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 10485760\r\n"


async def session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, log) -> None:
    helo = "-"
    recipients: list[str] = []
    writer.write(b"220 smtp-sink ESMTP\r\n")
    try:
        while line := await reader.readline():
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                helo = line[5:].strip().decode(errors="replace") or "-"
                writer.write(EHLO_REPLY if verb == b"EHLO" else b"250 smtp-sink\r\n")
            elif verb == b"MAIL":
                recipients = []
                writer.write(b"250 2.1.0 Ok\r\n")
            elif verb == b"RCPT":
                address = line.split(b":", 1)[1].strip().split(b" ")[0].strip(b"<>")
                recipients.append(address.decode(errors="replace"))
                writer.write(b"250 2.1.5 Ok\r\n")
            elif verb == b"DATA":
                writer.write(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                await writer.drain()
                while (data := await reader.readline()) != b".\r\n":
                    if not data:
                        return   # the client went away in the middle of a message: not received
                now = time.time()
                log.write("".join(f"{now:.3f}\t{helo}\t{r}\n" for r in recipients))
                log.flush()
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
                return
            else:
                writer.write(b"502 5.5.2 Command not recognized\r\n")
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=2525)
    parser.add_argument("--port-file", help="write the port listened on to this file once listening")
    parser.add_argument("--log", required=True)
    args = parser.parse_args()
    with open(args.log, "a", encoding="utf-8") as log:
        server = await asyncio.start_server(lambda r, w: session(r, w, log), "127.0.0.1", args.port)
        if args.port_file:
            with open(args.port_file, "w", encoding="utf-8") as port_file:
                port_file.write(f"{server.sockets[0].getsockname()[1]}\n")
        async with server:
            await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
