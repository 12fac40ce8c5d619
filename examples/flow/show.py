# show.py — the last stage: prints each message on stderr (its stdout is
# the frame channel back to the runner) and writes only "done" markers.
import struct
import sys

inp, out = sys.stdin.buffer, sys.stdout.buffer
while True:
    head = inp.read(4)
    if len(head) < 4:
        break
    print(inp.read(struct.unpack('<I', head)[0]).decode(), file=sys.stderr, flush=True)
    out.write(struct.pack('<I', 0))
    out.flush()
