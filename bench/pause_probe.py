"""pause_probe.py PORT SECONDS INTERVAL_MS: sends GET /status.json on one
keep-alive connection every INTERVAL_MS for SECONDS and prints the latency
percentiles (ms) of those probes as JSON: what a client of a busy runtime
waits when the garbage collector pauses it."""
import json
import socket
import sys
import time

port, seconds, interval = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]) / 1000
request = f"GET /status.json HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
sock = socket.create_connection(("127.0.0.1", port))
sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
latencies = []
end = time.monotonic() + seconds
next_probe = time.monotonic()
while time.monotonic() < end:
    start = time.monotonic()
    sock.sendall(request)
    answer = b""
    while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
        chunk = sock.recv(65536)
        if not chunk:
            raise SystemExit("the server closed the probe connection")
        answer += chunk
    latencies.append((time.monotonic() - start) * 1000)
    next_probe += interval
    time.sleep(max(0.0, next_probe - time.monotonic()))
latencies.sort()


def percentile(p):
    return round(latencies[min(len(latencies) - 1, int(len(latencies) * p))], 2)


print(json.dumps({"probes": len(latencies), "p50": percentile(0.5), "p99": percentile(0.99),
                  "p99.9": percentile(0.999), "max": round(latencies[-1], 2)}))
