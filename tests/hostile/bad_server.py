#!/usr/bin/env python3
"""bad_server.py: an HTTP server that misbehaves on purpose, for the client.

Usage: bad_server.py MODE [--tls CERT KEY] [--log FILE]

Listens on 127.0.0.1 (a free port), prints "listening on URL" as its first
line, and answers every POST according to MODE:

  status-999         an HTTP status outside 100..599 (999)
  retry-after-zero   503 with "Retry-After: 0"
  retry-after-past   503 with a Retry-After date in 1994
  retry-after-huge   429 with "Retry-After: 86400"
  accept             202, as the Events API does

With --tls it speaks HTTPS with the given certificate (a self-signed one
tests that verification fails, and that --cacert makes it pass). With
--log, one line per event is appended to FILE, flushed at once:
"connection" for every TCP connection accepted, "request PATH T" for every
request (T: monotonic seconds), so a test can count attempts and measure
the time between them. Runs until killed.
"""
import http.server
import socketserver
import ssl
import sys
import threading
import time

ANSWERS = {
    "status-999": (999, []),
    "retry-after-zero": (503, [("Retry-After", "0")]),
    "retry-after-past": (503, [("Retry-After", "Sun, 06 Nov 1994 08:49:37 GMT")]),
    "retry-after-huge": (429, [("Retry-After", "86400")]),
    "accept": (202, []),
}

log_lock = threading.Lock()
log_file = None


def note(line):
    if log_file is None:
        return
    with log_lock:
        with open(log_file, "a") as f:
            f.write(line + "\n")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    mode = "accept"

    def do_POST(self):
        note(f"request {self.path} {time.monotonic():.3f}")
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        status, headers = ANSWERS[self.mode]
        # send_response() refuses nothing, but writes the reason phrase of
        # known codes only: write the status line by hand for 999.
        self.wfile.write(f"HTTP/1.1 {status} Whatever\r\n".encode())
        for name, value in headers + [("Content-Length", "0")]:
            self.wfile.write(f"{name}: {value}\r\n".encode())
        self.wfile.write(b"\r\n")
        self.wfile.flush()

    def log_message(self, *args):
        pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    tls = None

    def get_request(self):
        sock, addr = self.socket.accept()
        note("connection")
        if self.tls:
            sock = self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr

    def handle_error(self, request, client_address):
        pass  # failed TLS handshakes are the point of some tests


def main():
    global log_file
    args = sys.argv[1:]
    if not args or args[0] not in ANSWERS:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    Handler.mode = args[0]
    tls = None
    if "--tls" in args:
        i = args.index("--tls")
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(args[i + 1], args[i + 2])
    if "--log" in args:
        log_file = args[args.index("--log") + 1]
    server = Server(("127.0.0.1", 0), Handler)
    server.tls = tls
    scheme = "https" if tls else "http"
    print(f"listening on {scheme}://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


main()
