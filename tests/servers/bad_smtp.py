#!/usr/bin/python3
"""A misbehaving SMTP (or HTTP) server for the delivery tests; standard library only.

    bad_smtp.py PORT MODE LIFETIME [SPOOL]

It listens on 127.0.0.1:PORT, serves each connection in its own thread, and exits by itself
after LIFETIME seconds, so a test that dies never leaves it behind. MODE is one of:

    hang          accept and never say a word (an SMTP server or a webhook that hangs)
    drip          send the greeting one byte every 2 seconds
    endless       a greeting that never ends: "220-..." lines, one every 10 ms
    CODE@STAGE    answer CODE (e.g. 451, 550) at STAGE: greeting, ehlo, mail, rcpt or data
                  (data: after the message's final dot); a normal server elsewhere
    reject:WORD   a normal server that refuses (550) recipients containing WORD

A normal exchange writes each accepted message to SPOOL (a directory), one file each.
"""

import os
import socket
import sys
import threading
import time

REFUSAL_TEXT = {
    "4": "4.3.0 try again later, the test server says",
    "5": "5.7.1 refused for good, the test server says",
}


def line_reader(conn):
    buffer = b""
    while True:
        while b"\r\n" not in buffer:
            chunk = conn.recv(4096)
            if not chunk:
                return
            buffer += chunk
        line, buffer = buffer.split(b"\r\n", 1)
        yield line.decode("utf-8", "replace")


def refusal(code):
    return "%s %s\r\n" % (code, REFUSAL_TEXT[code[0]])


def serve(conn, mode, spool):
    fail_code, fail_stage = None, None
    reject = None
    if "@" in mode:
        fail_code, fail_stage = mode.split("@", 1)
    elif mode.startswith("reject:"):
        reject = mode.split(":", 1)[1]

    def say(text):
        conn.sendall(text.encode())

    if mode == "hang":
        time.sleep(3600)
        return
    if mode == "drip":
        for byte in b"220 slow.example ESMTP\r\n":
            conn.sendall(bytes([byte]))
            time.sleep(2)
        time.sleep(3600)
        return
    if mode == "endless":
        while True:
            say("220-still greeting you\r\n")
            time.sleep(0.01)
    if fail_stage == "greeting":
        say(refusal(fail_code))
        return
    say("220 bad.example ESMTP\r\n")
    lines = line_reader(conn)
    for line in lines:
        verb = line.split(" ", 1)[0].split(":", 1)[0].upper()
        stage = {"EHLO": "ehlo", "HELO": "ehlo", "MAIL": "mail", "RCPT": "rcpt"}.get(verb)
        if stage is not None and stage == fail_stage:
            say(refusal(fail_code))
            continue
        if verb in ("EHLO", "HELO"):
            say("250-bad.example\r\n250 8BITMIME\r\n")
        elif verb == "RCPT" and reject is not None and reject in line:
            say("550 5.1.1 <%s>: no such user here\r\n" % line.split(":", 1)[1].strip(" <>"))
        elif verb in ("MAIL", "RCPT", "RSET", "NOOP"):
            say("250 OK\r\n")
        elif verb == "DATA":
            say("354 go ahead\r\n")
            message = []
            for body_line in lines:
                if body_line == ".":
                    break
                message.append(body_line)
            if fail_stage == "data":
                say(refusal(fail_code))
                continue
            if spool:
                name = "%f.%d" % (time.time(), threading.get_ident())
                with open(os.path.join(spool, name), "w") as out:
                    out.write("\n".join(message))
            say("250 OK queued\r\n")
        elif verb == "QUIT":
            say("221 bye\r\n")
            return
        else:
            say("502 what?\r\n")


def handle(conn, mode, spool):
    try:
        serve(conn, mode, spool)
    except OSError:
        pass
    finally:
        conn.close()


def main():
    port, mode, lifetime = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
    spool = sys.argv[4] if len(sys.argv) > 4 else None
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(16)
    # The deadline of the whole server: exit even while a connection hangs.
    threading.Timer(lifetime, lambda: os._exit(0)).start()
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=handle, args=(conn, mode, spool), daemon=True).start()


if __name__ == "__main__":
    main()
