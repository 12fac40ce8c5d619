# gen.py COUNT — a flow source command: writes the numbers 0..COUNT-1 as
# mu_pipe frames (4-byte little-endian length, then the decimal digits).
import struct
import sys

w = sys.stdout.buffer
for i in range(int(sys.argv[1])):
    b = str(i).encode()
    w.write(struct.pack('<I', len(b)) + b)
w.flush()
