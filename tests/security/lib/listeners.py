"""Loopback servers the suite runs: a file server for web-download and locations (with a redirect endpoint), and
recording listeners that prove nothing connected to them."""
import http.server
import os
import socket
import threading
import urllib.parse


class FileServer:
    """Serves the files of one directory on 127.0.0.1; `/redirect?to=URL` answers 302 to URL."""

    def __init__(self, directory, host="127.0.0.1"):
        self.requests = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                outer.requests.append(self.path)
                url = urllib.parse.urlsplit(self.path)
                if url.path == "/redirect":
                    target = urllib.parse.parse_qs(url.query).get("to", [""])[0]
                    self.send_response(302)
                    self.send_header("Location", target)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                name = os.path.basename(urllib.parse.unquote(url.path))
                path = os.path.join(directory, name)
                if not name or not os.path.isfile(path):
                    self.send_error(404)
                    return
                size = os.path.getsize(path)
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(size))
                self.end_headers()
                with open(path, "rb") as f:
                    while True:
                        chunk = f.read(1 << 20)
                        if not chunk:
                            break
                        try:
                            self.wfile.write(chunk)
                        except OSError:
                            return

        http.server.ThreadingHTTPServer.daemon_threads = True
        self.server = http.server.ThreadingHTTPServer((host, 0), Handler)
        self.host, self.port = host, self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, name):
        return "http://%s:%d/%s" % (self.host, self.port, urllib.parse.quote(name))

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class RecordingListener:
    """Accepts on (host, port) and records every peer that connected, closing each connection at once."""

    def __init__(self, host, port=0):
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            self.sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        self.sock.bind((host, port))
        self.sock.listen(64)
        self.host, self.port = host, self.sock.getsockname()[1]
        self.connections = []
        self._closed = False
        threading.Thread(target=self._loop, daemon=True).start()

    def _loop(self):
        while not self._closed:
            try:
                conn, peer = self.sock.accept()
            except OSError:
                return
            self.connections.append(peer)
            conn.close()

    def close(self):
        self._closed = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
