# sink.py PATH [FIRST] — a last-stage flow worker command: appends each input
# frame as a line to PATH.INDEX (MUFLOW_INDEX: its runner) and writes the
# "done" frame; at the end of its input it writes PATH.INDEX.end. With FIRST
# (a FIFO the test reads), it writes a line there once the first frame is in
# PATH.INDEX: the test waits on that event, not on the file.
import os
import struct
import sys

r, w = sys.stdin.buffer, sys.stdout.buffer
name = '%s.%s' % (sys.argv[1], os.environ['MUFLOW_INDEX'])
first = sys.argv[2] if len(sys.argv) > 2 else None
with open(name, 'ab') as out:
    while True:
        head = r.read(4)
        if len(head) < 4:
            break
        out.write(r.read(struct.unpack('<I', head)[0]) + b'\n')
        out.flush()
        if first:
            with open(first, 'w') as fifo:
                fifo.write('first\n')
            first = None
        w.write(struct.pack('<I', 0))
        w.flush()
open(name + '.end', 'w').close()
