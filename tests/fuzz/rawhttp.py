# Raw HTTP/1.1 over a socket: the fuzzer builds requests as bytes (so it can send malformed framing, bogus
# headers and truncated bodies) and reads whatever comes back, tolerating a server that closes without answering.

import socket
import threading
import time


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # list of (lowercased name, value)
        self.body = body

    def header(self, name):
        for k, v in self.headers:
            if k == name:
                return v
        return None


class NoResponse(Exception):
    """The connection closed (or reset) before a status line arrived."""


class Timeout(Exception):
    """No complete answer within the allowed time."""


def build(method, target, headers, body=b""):
    """Request bytes. `headers` is a list of (name, value) str/bytes pairs, sent exactly as given (no implicit
    Host, Content-Length or Connection: the generator decides)."""
    def b(x):
        return x if isinstance(x, bytes) else x.encode("utf-8", "surrogateescape")
    out = bytearray(b(method) + b" " + b(target) + b" HTTP/1.1\r\n")
    for k, v in headers:
        out += b(k) + b": " + b(v) + b"\r\n"
    out += b"\r\n"
    out += body
    return bytes(out)


def exchange(port, raw, timeout, half_close=True):
    """Sends `raw` on a new connection, half-closes it (so a body shorter than announced ends in EOF, not a
    wait), and reads one response. HEAD answers and 1xx interim answers are handled."""
    deadline = time.monotonic() + timeout
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)

    def send():
        try:
            s.sendall(raw)
            if half_close:
                s.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server may answer (400/413/431) and stop reading or close before taking everything

    try:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        # Sent from a thread so an early answer is read while a large body is still going out.
        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        is_head = raw[:5] == b"HEAD "
        return _read_response(s, deadline, is_head)
    finally:
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        s.close()


def _recv(s, deadline):
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise Timeout()
    s.settimeout(remaining)
    try:
        return s.recv(65536)
    except socket.timeout:
        raise Timeout()
    except ConnectionResetError:
        return b""


def _read_response(s, deadline, is_head):
    buf = b""
    while True:
        while b"\r\n\r\n" not in buf:
            chunk = _recv(s, deadline)
            if not chunk:
                if not buf:
                    raise NoResponse()
                raise NoResponse("incomplete head: %r" % buf[:200])
            buf += chunk
        head, _, rest = buf.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        parts = lines[0].split(b" ", 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/") or not parts[1].isdigit():
            raise NoResponse("bad status line: %r" % lines[0][:200])
        status = int(parts[1])
        headers = []
        for line in lines[1:]:
            k, _, v = line.partition(b":")
            headers.append((k.strip().lower().decode("latin-1"), v.strip().decode("latin-1")))
        if 100 <= status < 200:
            buf = rest  # interim answer (100 Continue): the real one follows
            continue
        break
    resp = Response(status, headers, b"")
    if is_head or status in (204, 304):
        return resp
    te = (resp.header("transfer-encoding") or "").lower()
    cl = resp.header("content-length")
    if "chunked" in te:
        resp.body = _read_chunked(s, rest, deadline)
    elif cl is not None and cl.isdigit():
        n = int(cl)
        while len(rest) < n:
            chunk = _recv(s, deadline)
            if not chunk:
                break
            rest += chunk
        resp.body = rest[:n]
    else:
        while True:
            chunk = _recv(s, deadline)
            if not chunk:
                break
            rest += chunk
        resp.body = rest
    return resp


def _read_chunked(s, buf, deadline):
    body = b""
    while True:
        while b"\r\n" not in buf:
            chunk = _recv(s, deadline)
            if not chunk:
                return body
            buf += chunk
        line, _, buf = buf.partition(b"\r\n")
        try:
            size = int(line.split(b";")[0].strip() or b"0", 16)
        except ValueError:
            return body
        if size == 0:
            return body
        while len(buf) < size + 2:
            chunk = _recv(s, deadline)
            if not chunk:
                return body + buf
            buf += chunk
        body += buf[:size]
        buf = buf[size + 2:]


def call(port, method, path, token=None, body=None, headers=(), timeout=30.0):
    """A well-formed request (JSON body when `body` is not bytes): used for set-up and health checks."""
    import json
    hs = [("Host", "127.0.0.1:%d" % port), ("Connection", "close")]
    if token:
        hs.append(("X-Auth-Token", token))
    data = b""
    if body is not None:
        if isinstance(body, bytes):
            data = body
        else:
            data = json.dumps(body).encode()
            hs.append(("Content-Type", "application/json"))
    hs.extend(headers)
    if body is not None or method in ("POST", "PUT", "PATCH"):
        hs.append(("Content-Length", str(len(data))))
    return exchange(port, build(method, path, hs, data), timeout)
