# edge_client.py PORT GO COUNT — connects to the listening edge on
# 127.0.0.1:PORT, writes a line to the FIFO GO (the source waits for it:
# the edge has its client before the first message), reads COUNT mu_pipe
# frames and prints them, one per line.
import socket
import struct
import sys

sock = socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=60)
with open(sys.argv[2], 'w') as go:
    go.write('go\n')
buf = b''
for _ in range(int(sys.argv[3])):
    while len(buf) < 4 or len(buf) < 4 + struct.unpack('<I', buf[:4])[0]:
        chunk = sock.recv(65536)
        if not chunk:
            sys.exit('connection closed early')
        buf += chunk
    n = struct.unpack('<I', buf[:4])[0]
    print(buf[4:4 + n].decode())
    buf = buf[4 + n:]
