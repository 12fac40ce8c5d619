# upper.py — a flow worker command in Python (stdlib only): for each input
# frame, one output frame "py:" + input, then the empty "done" frame.
import struct
import sys

r, w = sys.stdin.buffer, sys.stdout.buffer
while True:
    head = r.read(4)
    if len(head) < 4:
        break
    data = r.read(struct.unpack('<I', head)[0])
    out = b'py:' + data
    w.write(struct.pack('<I', len(out)) + out)
    w.write(struct.pack('<I', 0))
    w.flush()
