#!/bin/bash
# Durable accept and relay throughput: smtp-source (20 sessions, 4 KiB
# messages, one message per connection) against mta and, in the same run,
# the reference Postfix (/work/shared/tools/postfix-ref).
#
#   tests/bench/accept.sh [MESSAGES] [MTA_BINARY]
#   MTA_EXTRA='plugin_isolation = message' tests/bench/accept.sh   # extra main.cf lines for mta
#
# MTA_BINARY defaults to $CARGO_TARGET_DIR/release/mta when it exists (build
# it with `cargo build --release -p mta`), else the debug build.
#
# accept: time for smtp-source to get every message answered 250 (both
#         servers fsync before 250). Both servers run the same way here:
#         postfix-ref without --deliver sets `default_transport = discard`
#         and `relay_transport = discard`, and mta gets the same two lines,
#         so each one's queue manager also takes every message out again.
# relay:  time from the first message sent until the last one reached
#         smtp-sink behind the server (relayhost = [127.0.0.1]:SINK). mta's
#         accept figure from this run (accept while relaying) is printed too.
# mta needs a working `mta run` (smtpd); without one its rows are skipped.
set -eu
N=${1:-2000}
T=${CARGO_TARGET_DIR:-target}
if [ -n "${2:-}" ]; then MTA=$2
elif [ -x "$T/release/mta" ]; then MTA=$T/release/mta
else MTA=$T/debug/mta; fi
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
# sent_count LOG: delivery lines in a maillog (discard and smtp alike log status=sent).
sent_count() { grep -c 'status=sent' "$1" 2>/dev/null || true; }
# check_all NAME LOG: every message must have gone through, or the figure is void.
check_all() {
    i=0
    while [ "$(sent_count "$2")" -lt "$N" ]; do
        i=$((i+1))
        if [ $i -gt 600 ]; then
            echo "$1: only $(sent_count "$2") of $N messages delivered: figure void" >&2
            exit 1
        fi
        sleep 0.05
    done
}
source_run() { smtp-source -s 20 -l 4096 -m "$N" -f a@example.org -t b@example.net "127.0.0.1:$1"; }
rate() { python3 -c "import sys; t=float(sys.argv[2])-float(sys.argv[1]); print('%.2fs %.0f msg/s' % (t, int(sys.argv[3])/t))" "$1" "$2" "$N"; }

sink() { # port dir
    smtp-sink -u root -d "$2/m." "127.0.0.1:$1" 1000 >/dev/null 2>&1 &
    PIDS="$PIDS $!"
    wait_port "$1"
}

echo "messages=$N sessions=20 size=4096 ($(nproc) cores; uptime:$(uptime | sed 's/.*,  *load/ load/'))"

# --- mta helpers ---------------------------------------------------------
# mta_start NAME EXTRA_MAIN_CF: a daemon in $W/NAME listening on $P.
mta_start() {
    P=$(port)
    mkdir -p "$W/$1/etc"
    printf 'queue_directory = %s\n%s\n%s\n' "$W/$1/spool" "$2" "${MTA_EXTRA:-}" > "$W/$1/etc/main.cf"
    printf '127.0.0.1:%s inet n - n - - smtpd\n' "$P" > "$W/$1/etc/master.cf"
    "$MTA" run -c "$W/$1/etc" >"$W/$1/log" 2>&1 &
    MTA_PID=$!
    PIDS="$PIDS $MTA_PID"
    if ! wait_port "$P"; then
        echo "mta: \`mta run\` did not listen on $P (smtpd not available): mta rows skipped"
        exit 0
    fi
}
mta_stop() { kill "$MTA_PID" 2>/dev/null || true; wait "$MTA_PID" 2>/dev/null || true; }
echo "mta binary: $MTA${MTA_EXTRA:+ (main.cf plus: $MTA_EXTRA)}"

# Interleaved (Postfix, mta, Postfix, mta) so that a change in the
# machine's load hits both servers alike.
# --- Postfix -------------------------------------------------------------
P=$(port)
printf 'compatibility_level = 3.6\nmynetworks = 127.0.0.0/8\n' > "$W/pf-accept.cf"
"$PFREF" start --port "$P" --main-cf "$W/pf-accept.cf" --dir "$W/pf-accept" >/dev/null
wait_port "$P"
t0=$(now); source_run "$P"; t1=$(now)
echo "postfix accept: $(rate "$t0" "$t1" | tee "$W/pf-accept.rate")"
check_all "postfix accept" "$W/pf-accept/work/maillog"
"$PFREF" stop "$W/pf-accept" >/dev/null 2>&1 || true

mta_start mta-accept "$(printf 'default_transport = discard\nrelay_transport = discard\n')"
t0=$(now); source_run "$P"; t1=$(now)
echo "mta accept:     $(rate "$t0" "$t1" | tee "$W/mta-accept.rate")"
check_all "mta accept" "$W/mta-accept/log"
mta_stop

S=$(port); sink "$S" "$W/pf-sink"
P=$(port)
printf 'compatibility_level = 3.6\nmynetworks = 127.0.0.0/8\nrelayhost = [127.0.0.1]:%s\n' "$S" > "$W/pf-relay.cf"
"$PFREF" start --port "$P" --main-cf "$W/pf-relay.cf" --dir "$W/pf-relay" --deliver >/dev/null
wait_port "$P"
t0=$(now); source_run "$P"; wait_count "$W/pf-sink" "$N"; t1=$(now)
echo "postfix relay:  $(rate "$t0" "$t1" | tee "$W/pf-relay.rate")"
"$PFREF" stop "$W/pf-relay" >/dev/null 2>&1 || true

S=$(port); sink "$S" "$W/mta-sink"
mta_start mta "$(printf 'relayhost = [127.0.0.1]:%s\nsmtp_tls_security_level = none\n' "$S")"
t0=$(now); source_run "$P"; t1=$(now); wait_count "$W/mta-sink" "$N"; t2=$(now)
echo "mta accept while relaying: $(rate "$t0" "$t1")"
echo "mta relay:      $(rate "$t0" "$t2" | tee "$W/mta-relay.rate")"
check_all "mta relay" "$W/mta/log"
mta_stop
python3 - "$W" <<'PY'
import sys
w = sys.argv[1]
r = lambda f: float(open(f"{w}/{f}.rate").read().split()[1])
print("ratio accept mta/postfix: %.2f" % (r("mta-accept") / r("pf-accept")))
print("ratio relay  mta/postfix: %.2f" % (r("mta-relay") / r("pf-relay")))
PY
echo "uptime at the end:$(uptime | sed 's/.*,  *load/ load/')"
