#!/bin/bash
# Durable accept and relay throughput: smtp-source (20 sessions, 4 KiB
# messages, one message per connection) against mta and, in the same run,
# the reference Postfix (/work/shared/tools/postfix-ref).
#
#   tests/bench/accept.sh [MESSAGES] [MTA_BINARY]
#
# accept: time for smtp-source to get every message answered 250 (both
#         servers fsync before 250).
# relay:  time from the first message sent until the last one reached
#         smtp-sink behind the server (relayhost = [127.0.0.1]:SINK).
# mta needs a working `mta run` (smtpd); without one its rows are skipped.
set -eu
N=${1:-2000}
MTA=${2:-${CARGO_TARGET_DIR:-target}/debug/mta}
PFREF=/work/shared/tools/postfix-ref
W=$(mktemp -d /tmp/mta-bench.XXXXXX)
chmod 755 "$W" # Postfix daemons run unprivileged and must traverse it
PIDS=""
cleanup() {
    for p in $PIDS; do kill "$p" 2>/dev/null || true; done
    "$PFREF" stop "$W/pf-accept" >/dev/null 2>&1 || true
    "$PFREF" stop "$W/pf-relay" >/dev/null 2>&1 || true
}
trap cleanup EXIT

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now() { date +%s.%N; }
wait_port() { i=0; while ! (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null; do i=$((i+1)); [ $i -gt 200 ] && return 1; sleep 0.05; done; }
count() { find "$1" -type f 2>/dev/null | wc -l; }
wait_count() { i=0; while [ "$(count "$1")" -lt "$2" ]; do i=$((i+1)); [ $i -gt 12000 ] && return 1; sleep 0.05; done; }
source_run() { smtp-source -s 20 -l 4096 -m "$N" -f a@example.org -t b@example.net "127.0.0.1:$1"; }
rate() { python3 -c "import sys; t=float(sys.argv[2])-float(sys.argv[1]); print('%.2fs %.0f msg/s' % (t, int(sys.argv[3])/t))" "$1" "$2" "$N"; }

sink() { # port dir
    smtp-sink -u root -d "$2/m." "127.0.0.1:$1" 1000 >/dev/null 2>&1 &
    PIDS="$PIDS $!"
    wait_port "$1"
}

echo "messages=$N sessions=20 size=4096 ($(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg))"

# --- Postfix -------------------------------------------------------------
P=$(port)
printf 'compatibility_level = 3.6\nmynetworks = 127.0.0.0/8\n' > "$W/pf-accept.cf"
"$PFREF" start --port "$P" --main-cf "$W/pf-accept.cf" --dir "$W/pf-accept" >/dev/null
wait_port "$P"
t0=$(now); source_run "$P"; t1=$(now)
echo "postfix accept: $(rate "$t0" "$t1" | tee "$W/pf-accept.rate")"
"$PFREF" stop "$W/pf-accept" >/dev/null 2>&1 || true

S=$(port); sink "$S" "$W/pf-sink"
P=$(port)
printf 'compatibility_level = 3.6\nmynetworks = 127.0.0.0/8\nrelayhost = [127.0.0.1]:%s\n' "$S" > "$W/pf-relay.cf"
"$PFREF" start --port "$P" --main-cf "$W/pf-relay.cf" --dir "$W/pf-relay" --deliver >/dev/null
wait_port "$P"
t0=$(now); source_run "$P"; wait_count "$W/pf-sink" "$N"; t1=$(now)
echo "postfix relay:  $(rate "$t0" "$t1" | tee "$W/pf-relay.rate")"
"$PFREF" stop "$W/pf-relay" >/dev/null 2>&1 || true

# --- mta -----------------------------------------------------------------
S=$(port); sink "$S" "$W/mta-sink"
P=$(port)
mkdir -p "$W/mta/etc"
cat > "$W/mta/etc/main.cf" <<CF
queue_directory = $W/mta/spool
relayhost = [127.0.0.1]:$S
smtp_tls_security_level = none
CF
printf '127.0.0.1:%s inet n - n - - smtpd\n' "$P" > "$W/mta/etc/master.cf"
"$MTA" run -c "$W/mta/etc" >"$W/mta/log" 2>&1 &
PIDS="$PIDS $!"
if ! wait_port "$P"; then
    echo "mta: \`mta run\` did not listen on $P (smtpd not available): mta rows skipped"
    exit 0
fi
t0=$(now); source_run "$P"; t1=$(now); wait_count "$W/mta-sink" "$N"; t2=$(now)
echo "mta accept:     $(rate "$t0" "$t1" | tee "$W/mta-accept.rate")"
echo "mta relay:      $(rate "$t0" "$t2" | tee "$W/mta-relay.rate")"
python3 - "$W" <<'PY'
import sys
w = sys.argv[1]
r = lambda f: float(open(f"{w}/{f}.rate").read().split()[1])
print("ratio accept mta/postfix: %.2f" % (r("mta-accept") / r("pf-accept")))
print("ratio relay  mta/postfix: %.2f" % (r("mta-relay") / r("pf-relay")))
PY
