# upper.py — a flow worker command in Python (stdlib only): one frame in
# per input on stdin; for each, its outputs (here one: the input in upper
# case), then an empty frame, the "done" marker.
import struct
import sys

inp, out = sys.stdin.buffer, sys.stdout.buffer
while True:
    head = inp.read(4)
    if len(head) < 4:
        break  # the input ended: the flow drains
    data = inp.read(struct.unpack('<I', head)[0])
    result = data.upper()
    out.write(struct.pack('<I', len(result)) + result)
    out.write(struct.pack('<I', 0))  # done with this input
    out.flush()
