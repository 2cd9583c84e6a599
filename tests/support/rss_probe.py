"""A child process that measures how much memory one request's body costs the client: it
prints the outcome and the peak resident memory gained after a warm-up request."""

RSS_PROBE = """
import json, sys
from armature_source.http.client import ArmatureClient
from armature_source.credentials import Connection
from armature_source.errors import BodyTooLargeError

def status(name):
    return next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith(name)) * 1024

url, key, cap = sys.argv[1], sys.argv[2], int(sys.argv[3])
with ArmatureClient(Connection.checked(url, key), max_body_bytes=cap) as client:
    client.get("/org")  # warm: the loop, the pool, the imports
    before = status("VmRSS")
    try:
        client.get("/runs/r1/tool-calls")
        outcome = "read"
    except BodyTooLargeError:
        outcome = "too large"
print(json.dumps({"outcome": outcome, "peak_delta": status("VmHWM") - before}))
"""
