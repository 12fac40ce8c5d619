# sink.py PATH — a last-stage flow worker command: appends each input frame
# as a line to PATH.INDEX (MUFLOW_INDEX: its runner) and writes the "done"
# frame; at the end of its input it writes PATH.INDEX.end.
import os
import struct
import sys

r, w = sys.stdin.buffer, sys.stdout.buffer
name = '%s.%s' % (sys.argv[1], os.environ['MUFLOW_INDEX'])
with open(name, 'ab') as out:
    while True:
        head = r.read(4)
        if len(head) < 4:
            break
        out.write(r.read(struct.unpack('<I', head)[0]) + b'\n')
        out.flush()
        w.write(struct.pack('<I', 0))
        w.flush()
open(name + '.end', 'w').close()
