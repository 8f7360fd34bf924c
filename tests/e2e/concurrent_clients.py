"""Concurrent image clients for tests/e2e/scale-out.sh: N threads, each looping create -> upload -> list ->
delete through one URL (the load balancer) for a number of seconds, with a token from the environment.
Prints one JSON line: request counts by status class, and every 5xx or transport error seen.

Usage: python3 concurrent_clients.py URL TOKEN CLIENTS SECONDS
"""
import json
import os
import sys
import threading
import time
import urllib.error
import urllib.request


def main():
    url, token, clients, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    deadline = time.monotonic() + seconds
    lock = threading.Lock()
    counts = {}
    problems = []

    def call(method, path, body=None, content_type=None):
        request = urllib.request.Request(url + path, data=body, method=method)
        request.add_header("X-Auth-Token", token)
        if content_type:
            request.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                status, data = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, data = error.code, error.read()
        except Exception as error:  # connection reset, timeout: as bad as a 5xx for a client
            status, data = 0, str(error).encode()
        with lock:
            key = "error" if status == 0 else f"{status // 100}xx"
            counts[key] = counts.get(key, 0) + 1
            if status == 0 or status >= 500:
                problems.append(f"{method} {path}: {status} {data[:200]!r}")
        return status, data

    def client(number):
        payload = os.urandom(256 * 1024 + number)
        while time.monotonic() < deadline:
            status, data = call("POST", "/v2/images",
                                json.dumps({"name": f"load-{number}", "disk_format": "raw",
                                            "container_format": "bare"}).encode(), "application/json")
            if status != 201:
                continue
            image = json.loads(data)["id"]
            call("PUT", f"/v2/images/{image}/file", payload, "application/octet-stream")
            call("GET", "/v2/images?limit=20")
            call("GET", f"/v2/images/{image}")
            call("DELETE", f"/v2/images/{image}")

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(json.dumps({"counts": counts, "problems": problems[:20]}))


if __name__ == "__main__":
    main()
