# crash.py MARKER — passes frames on like upper.py, except that the first
# time it runs (MARKER absent: it makes it) it dies on its third input.
import os
import struct
import sys

first = not os.path.exists(sys.argv[1])
if first:
    open(sys.argv[1], 'w').close()
r, w = sys.stdin.buffer, sys.stdout.buffer
n = 0
while True:
    head = r.read(4)
    if len(head) < 4:
        break
    data = r.read(struct.unpack('<I', head)[0])
    n += 1
    if first and n == 3:
        os._exit(1)
    w.write(struct.pack('<I', len(data)) + data)
    w.write(struct.pack('<I', 0))
    w.flush()
