#!/bin/bash
cd /work/main/_build/rel
D=/tmp/camp
stamp() { echo "# $1 $(date -u +%H:%M:%S) $(cut -d' ' -f1-3 /proc/loadavg)" >> $D/times.txt; }
stamp lru-start; ./bench/lru > $D/lru.out 2> $D/lru.err; stamp lru-end
stamp pubsub-start; ./bench/pubsub > $D/pubsub.out 2> $D/pubsub.err; stamp pubsub-end
stamp socket-start; ./bench/socket > $D/socket.out 2> $D/socket.err; stamp socket-end
stamp flood-start
for i in 1 2 3 4 5; do ./mutil flow demo --count 2000000 --json 2>&1 | grep '^{' >> $D/demo-flood.out; done
stamp flood-end
med=$(/usr/bin/python3 -c "import json,statistics;v=[json.loads(l)['value'] for l in open('$D/demo-flood.out')];print(int(statistics.median(v)/2))")
echo "# half median flood $med" >> $D/times.txt
stamp paced-start
for i in $(seq 10); do ./mutil flow demo --count $((med*2)) --rate $med --json 2>&1 | grep '^{' >> $D/demo-paced.out; done
stamp paced-end
stamp conn-start; ./bench/conn --reps=15 > $D/conn.out 2> $D/conn.err; stamp conn-end
echo done >> $D/times.txt
