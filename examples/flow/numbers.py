# numbers.py [COUNT] — a flow source command: writes the lines "line 0" ..
# "line COUNT-1" (default 20) as mu_pipe frames on stdout (4-byte
# little-endian length, then the bytes); the source ends when it exits.
import struct
import sys

out = sys.stdout.buffer
for i in range(int(sys.argv[1]) if len(sys.argv) > 1 else 20):
    line = ('line %d' % i).encode()
    out.write(struct.pack('<I', len(line)) + line)
out.flush()
