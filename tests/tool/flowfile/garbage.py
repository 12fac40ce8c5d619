# garbage.py — a broken worker command: answers each input with a line of
# text instead of mu_pipe frames.
import sys

while sys.stdin.buffer.read(1):
    sys.stdout.buffer.write(b'hello, this is not a frame\n')
    sys.stdout.buffer.flush()
