# edge_client.py READY_FILE COUNT CONNECTED — waits for the ready line of
# `mutil flow run` in READY_FILE, connects to the first listening edge it
# names, makes the file CONNECTED, reads COUNT mu_pipe frames and prints
# them, one per line.
import re
import socket
import struct
import sys
import time

deadline = time.monotonic() + 60
port = None
while port is None and time.monotonic() < deadline:
    with open(sys.argv[1]) as f:
        m = re.search(r'ready .* port (\d+)', f.read())
    if m:
        port = int(m.group(1))
    else:
        time.sleep(0.05)
sock = socket.create_connection(('127.0.0.1', port), timeout=60)
open(sys.argv[3], 'w').close()
buf = b''
for _ in range(int(sys.argv[2])):
    while len(buf) < 4 or len(buf) < 4 + struct.unpack('<I', buf[:4])[0]:
        chunk = sock.recv(65536)
        if not chunk:
            sys.exit('connection closed early')
        buf += chunk
    n = struct.unpack('<I', buf[:4])[0]
    print(buf[4:4 + n].decode())
    buf = buf[4 + n:]
