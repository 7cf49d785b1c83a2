#!/usr/bin/env python3
"""Local HTTP(S) server for nestlab's downloader tests. Standard library only.

Listens on 127.0.0.1 (port 0 = pick one) and prints "PORT <n>" on stdout once ready.
Every request is appended to --log as one JSON object per line:
{"method", "path", "range", "status"} (and {"tls_error": ...} for failed handshakes).

Endpoints (NAME is a file under --root):
  /files/NAME            the file, with Range/206 support (416 past the end)
  /norange/NAME          the file, ignoring Range (always 200)
  /cut/N/NAME            first request for this path: headers for the full body, N bytes,
                         then the connection is dropped; later requests behave like /files
  /stall/NAME?after=N    headers and N bytes (default 0), then nothing for a long time
  /slow/MS/NAME          waits MS milliseconds, then serves the file like /files
  /status/CODE           that status with a short text body
  /redirect/NAME         302 to /files/NAME
  /SHA256SUMS            sha256sum-format list of every file in --root
  /sha256/NAME           a single-file .sha256: the hex digest and a newline
  /echo                  JSON: method, path, headers, body, client certificate subject
With --tls-cert/--tls-key it speaks HTTPS; with --client-ca it requires a client
certificate signed by that CA (ssl.CERT_REQUIRED).

The server exits when its standard input closes (the test process went away) or after
--max-seconds, so a crashed test cannot leave it running.
"""
import argparse
import hashlib
import json
import os
import re
import signal
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit, parse_qs, unquote


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, address, handler, root, log_path, ssl_context):
        super().__init__(address, handler)
        self.root = root
        self.log_path = log_path
        self.ssl_context = ssl_context
        self.lock = threading.Lock()
        self.cut_done = set()

    def log(self, record):
        line = json.dumps(record, sort_keys=True) + "\n"
        with self.lock:
            with open(self.log_path, "a") as f:
                f.write(line)
                f.flush()

    def finish_request(self, request, client_address):
        # The TLS handshake runs here, in the per-connection thread, so a failing client
        # does not block the accept loop.
        if self.ssl_context is not None:
            try:
                request = self.ssl_context.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError) as error:
                self.log({"tls_error": str(error)})
                return
        self.RequestHandlerClass(request, client_address, self)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "nestlab-testserver"

    def log_message(self, format, *args):
        pass

    def send_response(self, code, message=None):
        self.server.log({
            "method": self.command,
            "path": self.path,
            "range": self.headers.get("Range"),
            "status": code,
        })
        super().send_response(code, message)

    # MARK: dispatch

    def do_HEAD(self):
        self.handle_any(head=True)

    def do_GET(self):
        self.handle_any(head=False)

    def do_POST(self):
        self.handle_any(head=False)

    def handle_any(self, head):
        url = urlsplit(self.path)
        path = unquote(url.path)
        query = parse_qs(url.query)
        m = re.fullmatch(r"/files/(.+)", path)
        if m:
            return self.serve_file(m.group(1), head)
        m = re.fullmatch(r"/norange/(.+)", path)
        if m:
            return self.serve_file(m.group(1), head, honour_range=False)
        m = re.fullmatch(r"/cut/(\d+)/(.+)", path)
        if m:
            with self.server.lock:
                first = self.path not in self.server.cut_done
                self.server.cut_done.add(self.path)
            limit = int(m.group(1)) if first else None
            return self.serve_file(m.group(2), head, cut_after=limit)
        m = re.fullmatch(r"/slow/(\d+)/(.+)", path)
        if m:
            time.sleep(int(m.group(1)) / 1000)
            return self.serve_file(m.group(2), head)
        m = re.fullmatch(r"/stall/(.+)", path)
        if m:
            return self.stall(m.group(1), int(query.get("after", ["0"])[0]))
        m = re.fullmatch(r"/status/(\d{3})", path)
        if m:
            code = int(m.group(1))
            return self.send_text(code, "status %d\n" % code, head)
        m = re.fullmatch(r"/redirect/(.+)", path)
        if m:
            self.send_response(302)
            self.send_header("Location", "/files/" + m.group(1))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if path == "/SHA256SUMS":
            lines = []
            for name in sorted(os.listdir(self.server.root)):
                full = os.path.join(self.server.root, name)
                if os.path.isfile(full):
                    lines.append("%s  %s\n" % (sha256_file(full), name))
            return self.send_text(200, "".join(lines), head)
        m = re.fullmatch(r"/sha256/(.+)", path)
        if m:
            full = self.resolve(m.group(1))
            if full is None:
                return self.send_text(404, "no such file\n", head)
            return self.send_text(200, sha256_file(full) + "\n", head)
        if path == "/echo":
            return self.echo()
        return self.send_text(404, "no such endpoint\n", head)

    # MARK: helpers

    def resolve(self, name):
        full = os.path.realpath(os.path.join(self.server.root, name))
        if not full.startswith(os.path.realpath(self.server.root) + os.sep) or not os.path.isfile(full):
            return None
        return full

    def send_text(self, code, text, head=False):
        body = text.encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def parse_range(self, size):
        header = self.headers.get("Range")
        if not header:
            return None
        m = re.fullmatch(r"bytes=(\d*)-(\d*)", header.strip())
        if not m or (m.group(1) == "" and m.group(2) == ""):
            return None
        if m.group(1) == "":
            length = int(m.group(2))
            return (max(0, size - length), size - 1)
        start = int(m.group(1))
        end = int(m.group(2)) if m.group(2) else size - 1
        return (start, min(end, size - 1))

    def serve_file(self, name, head, honour_range=True, cut_after=None):
        full = self.resolve(name)
        if full is None:
            return self.send_text(404, "no such file\n", head)
        size = os.path.getsize(full)
        byte_range = self.parse_range(size) if honour_range else None
        if byte_range is not None and byte_range[0] >= size:
            self.send_response(416)
            self.send_header("Content-Range", "bytes */%d" % size)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if byte_range is None:
            start, end, code = 0, size - 1, 200
        else:
            start, end, code = byte_range[0], byte_range[1], 206
        length = end - start + 1 if size > 0 else 0
        self.send_response(code)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(length))
        self.send_header("Accept-Ranges", "bytes")
        if code == 206:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, end, size))
        self.end_headers()
        if head or length == 0:
            return
        with open(full, "rb") as f:
            if cut_after is not None and cut_after < length:
                f.seek(start)
                self.wfile.write(f.read(cut_after))
                self.wfile.flush()
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return
            try:
                # sendfile keeps the server from being the bottleneck in the benchmark.
                self.connection.sendfile(f, start, length)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

    def stall(self, name, after):
        full = self.resolve(name)
        if full is None:
            return self.send_text(404, "no such file\n", False)
        size = os.path.getsize(full)
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(size))
        self.end_headers()
        if after > 0:
            with open(full, "rb") as f:
                self.wfile.write(f.read(min(after, size)))
        self.wfile.flush()
        self.close_connection = True
        time.sleep(120)

    def echo(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        subject = None
        if isinstance(self.connection, ssl.SSLSocket):
            cert = self.connection.getpeercert()
            if cert:
                subject = dict(pair[0] for pair in cert.get("subject", ()))
        reply = json.dumps({
            "method": self.command,
            "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body.decode("utf-8", "replace"),
            "client_subject": subject,
        }, sort_keys=True).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def exit_when_parent_goes(max_seconds):
    def watch_stdin():
        try:
            while sys.stdin.buffer.read(4096):
                pass
        except OSError:
            pass
        os._exit(0)

    def watch_clock():
        time.sleep(max_seconds)
        os._exit(0)

    threading.Thread(target=watch_stdin, daemon=True).start()
    threading.Thread(target=watch_clock, daemon=True).start()


def main():
    # A child spawned from a thread of the Swift test runner inherits its blocked signal
    # mask (SIGTERM included), which would make the test's terminate() a no-op.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT, signal.SIGHUP})
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    parser.add_argument("--client-ca")
    parser.add_argument("--max-seconds", type=float, default=900)
    parser.add_argument("--no-stdin-watch", action="store_true",
                        help="do not exit when stdin closes (for use from shell scripts)")
    args = parser.parse_args()

    context = None
    if args.tls_cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        if args.client_ca:
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(args.client_ca)

    server = Server(("127.0.0.1", args.port), Handler, args.root, args.log, context)
    if not args.no_stdin_watch:
        exit_when_parent_goes(args.max_seconds)
    else:
        threading.Thread(target=lambda: (time.sleep(args.max_seconds), os._exit(0)), daemon=True).start()
    print("PORT %d" % server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
