# bench/lib/measure.sh -- how bench/run measures: one timed wrk run with
# the CPU time of the proxy's processes around it, the RSS of an httpd
# child while 1 GiB streams through it, system calls over a fixed batch
# (strace -c -f), instructions over a fixed batch (callgrind on httpd -X).
# Sourced by bench/run; it writes raw files into $OUT, bench/report reads
# them.

# proc_ticks PID...: "USER SYS" clock ticks (utime+cutime, stime+cstime)
# of the given processes and their children (threads included:
# /proc/PID/stat sums them; children that exited and were reaped count in
# cutime/cstime).
proc_ticks() {
    perl -e '
        my %root = map { $_ => 1 } @ARGV;
        my ($user, $sys) = (0, 0);
        for my $f (glob "/proc/[0-9]*/stat") {
            open(my $h, "<", $f) or next;
            my $l = <$h>;
            next unless defined $l && $l =~ /^(\d+) /;
            my $pid = $1;
            $l =~ s/^.*\) //;
            my @f = split " ", $l;
            next unless $root{$pid} || $root{$f[1]};
            $user += $f[11] + $f[13];
            $sys += $f[12] + $f[14];
        }
        print "$user $sys\n";' "$@"
}

# parse_wrk FILE: requests, seconds, req/s, p50 and p99 in ms, socket
# errors, non-2xx/3xx responses -- tab-separated.
parse_wrk() {
    awk '
        function ms(v) {
            if (v ~ /us$/) return v / 1000
            if (v ~ /ms$/) return v + 0
            if (v ~ /m$/) return v * 60000
            if (v ~ /s$/) return v * 1000
            return v + 0
        }
        $2 == "requests" && $3 == "in" { req = $1; secs = $4; sub(/s,?$/, "", secs) }
        $1 == "Requests/sec:" { rps = $2 }
        $1 == "50%" { p50 = ms($2) }
        $1 == "99%" { p99 = ms($2) }
        $1 == "Socket" && $2 == "errors:" { err = $4 + $6 + $8 + $10 }
        /^ *Non-2xx or 3xx responses:/ { non = $NF }
        END {
            printf "%s\t%s\t%s\t%s\t%s\t%d\t%d\n", req + 0, secs + 0, rps + 0, \
                (p50 == "" ? "" : p50), (p99 == "" ? "" : p99), err, non
        }' "$1"
}

# wrk_args SCENARIO CONFIG SECONDS: the wrk command line.
wrk_args() {
    local s=$1 c=$2 secs=$3
    local a=(wrk -t"$THREADS" -c"$CONNS" -d"${secs}s" --latency --timeout 10s)
    case "$s" in
        upload) a+=(-s "$bench/post.lua") ;;
        newconn) a+=(-H "Connection: close") ;;
    esac
    a+=("http://127.0.0.1:$(cfg_port "$c")$(scen_path "$s")")
    printf '%s\n' "${a[@]}"
}

declare -A CMD_SEEN

# wrk_once SCENARIO CONFIG SECONDS OUTFILE: runs wrk pinned to the load
# core; prints the parse_wrk fields, then the CPU ticks the config's
# processes spent meanwhile (user + kernel) and the kernel's part of them.
wrk_once() {
    local s=$1 c=$2 secs=$3 out=$4 roots u0 s0 u1 s1
    local -a cmd
    mapfile -t cmd < <(wrk_args "$s" "$c" "$secs")
    if [ -z "${CMD_SEEN[$s:$c]:-}" ] && [ "$out" != "$RUN/warmup.txt" ]; then
        CMD_SEEN[$s:$c]=1
        local shown
        printf -v shown '%q ' "${PIN_LOAD[@]}" "${cmd[@]}"
        printf '%s\t%s\t%s\n' "$s" "$c" "${shown% }" >>"$OUT/commands.tsv"
    fi
    roots=$(cfg_roots "$c")
    # shellcheck disable=SC2086
    read -r u0 s0 < <(proc_ticks $roots)
    BENCH_POST_BYTES=65536 "${PIN_LOAD[@]}" "${cmd[@]}" >"$out" 2>&1
    # shellcheck disable=SC2086
    read -r u1 s1 < <(proc_ticks $roots)
    printf '%s\t%s\t%s\n' "$(parse_wrk "$out")" "$((u1 + s1 - u0 - s0))" "$((s1 - s0))"
}

# note_cmd WHAT WORDS...: records a command of the deterministic figures
# (the first of each kind) for the report, words joined by spaces.
note_cmd() {
    local what=$1
    shift
    [ -z "${CMD_SEEN[extra:$what]:-}" ] || return 0
    CMD_SEEN[extra:$what]=1
    printf 'extra\t%s\t%s\n' "$what" "$*" >>"$OUT/commands.tsv"
}

# --- RSS of the httpd child while 1 GiB streams through it ------------------------
vm_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null; }

# sample_rss PID FILE: writes the largest VmRSS seen (every 20 ms) into
# FILE until FILE.stop appears.
sample_rss() {
    local pid=$1 f=$2 max=0 v
    while [ ! -e "$f.stop" ]; do
        v=$(vm_kb "$pid" VmRSS)
        [ -n "$v" ] && [ "$v" -gt "$max" ] && max=$v
        sleep 0.02
    done
    echo "$max" >"$f"
}

measure_rss() {
    printf 'config\tdirection\tbytes\thttp\trss_before_kb\tpeak_kb\trss_after_kb\tpeak_from\n' >"$OUT/rss.tsv"
    local c dir child before peak sampled after res url method
    for c in ours stock; do
        [[ " $CONFIGS " == *" $c "* ]] || continue
        child=$(httpd_child "$c")
        [ -n "$child" ] || { log "rss: no child of $c"; continue; }
        url=http://127.0.0.1:$(cfg_port "$c")
        for dir in response upload; do
            before=$(vm_kb "$child" VmRSS)
            # 5 > clear_refs resets VmHWM to the current RSS (Linux >= 4.0).
            if echo 5 >"/proc/$child/clear_refs" 2>/dev/null; then method=VmHWM; else method=sampled; fi
            rm -f "$RUN/rss.sample" "$RUN/rss.sample.stop"
            sample_rss "$child" "$RUN/rss.sample" &
            local sp=$!
            if [ "$dir" = response ]; then
                note_cmd rss-response curl -s -o /dev/null "$url/o/huge.bin"
                res=$("${PIN_LOAD[@]}" curl -s -o /dev/null -w '%{http_code} %{size_download}' \
                    --max-time 300 "$url/o/huge.bin")
            else
                note_cmd rss-upload curl -s -o /dev/null -H "'Expect:'" -X POST -T "$WWW/o/huge.bin" "$url/o/upload"
                res=$("${PIN_LOAD[@]}" curl -s -o /dev/null -w '%{http_code} %{size_upload}' \
                    --max-time 300 -H 'Expect:' -H 'Content-Type: application/octet-stream' \
                    -X POST -T "$WWW/o/huge.bin" "$url/o/upload")
            fi
            touch "$RUN/rss.sample.stop"
            wait "$sp"
            sampled=$(cat "$RUN/rss.sample" 2>/dev/null || echo 0)
            after=$(vm_kb "$child" VmRSS)
            peak=$sampled
            if [ "$method" = VmHWM ]; then
                peak=$(vm_kb "$child" VmHWM)
                [ "${sampled:-0}" -gt "${peak:-0}" ] && peak=$sampled
            fi
            printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$c" "$dir" "${res#* }" "${res%% *}" \
                "$before" "$peak" "$after" "$method" >>"$OUT/rss.tsv"
            log "rss $c $dir: HTTP ${res%% *}, ${res#* } bytes, RSS ${before} -> peak ${peak} KiB ($method)"
        done
    done
}

# --- fixed batches --------------------------------------------------------------------
# batch_file URL COUNT: a curl config fetching URL COUNT times over one
# keep-alive connection.
# batch_file URL COUNT [close]: a curl config fetching URL COUNT times, on
# one keep-alive connection, or with "close" a new connection each time
# (the request asks for Connection: close).
batch_file() {
    local f
    f=$RUN/batch-$(echo "$1" | tr -c 'a-zA-Z0-9' _)-$2${3:+-$3}.cfg
    if [ ! -f "$f" ]; then
        local i
        {
            [ "${3:-}" = close ] && printf 'header = "Connection: close"\n'
            for ((i = 0; i < $2; i++)); do
                printf 'url = "%s"\noutput = "/dev/null"\n' "$1"
            done
        } >"$f"
    fi
    echo "$f"
}

# run_batch URL COUNT [close]: fetches; fails unless every answer was a 200.
run_batch() {
    local f codes
    f=$(batch_file "$1" "$2" "${3:-}")
    codes=$("${PIN_LOAD[@]}" curl -s -K "$f" -w '%{http_code}\n' | sort | uniq -c | tr -s ' ')
    [ "$codes" = " $2 200" ] || { log "batch $1 x$2: answers$codes"; return 1; }
}

# --- system calls per request: strace -c -f attached to the serving process ---------
# serving_pid CONFIG: the process that handles requests.
serving_pid() {
    case "$1" in
        ours|stock) httpd_child "$1" ;;
        nginx) child_pids "$(cat "$RUN/nginx/nginx.pid")" | head -n 1 ;;
        haproxy) head -n 1 "$RUN/haproxy/haproxy.pid" ;;
    esac
}

# all_traced PID TRACER: every thread of PID is traced by TRACER.
all_traced() {
    local t
    for t in /proc/"$1"/task/*; do
        [ "$(awk '$1 == "TracerPid:" { print $2 }' "$t/status" 2>/dev/null)" = "$2" ] || return 1
    done
}

# strace_batch CONFIG KIND PATH [close]: system calls of the serving
# process over $BATCH requests (with "close": a new connection each).
strace_batch() {
    local c=$1 kind=$2 path=$3 close=${4:-} pid url spid n f=$OUT/strace/$1-$2.txt
    pid=$(serving_pid "$c")
    [ -n "$pid" ] || { log "strace: no serving process for $c"; return 1; }
    url=http://127.0.0.1:$(cfg_port "$c")$path
    run_batch "$url" 20 $close || return 1
    note_cmd strace strace -c -f -p "CHILD_PID" -o "$f"
    [ -n "$close" ] || note_cmd batch curl -s -K "$(batch_file "$url" "$BATCH")" " # $BATCH x GET $url, one connection"
    strace -c -f -p "$pid" -o "$f" 2>"$f.log" &
    spid=$!
    for n in $(seq 100); do
        all_traced "$pid" "$spid" && break
        sleep 0.05
    done
    run_batch "$url" "$BATCH" $close
    local rc=$?
    sleep 0.2
    kill -INT "$spid" 2>/dev/null
    wait "$spid" 2>/dev/null
    [ "$rc" = 0 ] || return 1
    n=$(awk '$NF == "total" { print $4 }' "$f")
    printf '%s\t%s\t%s\t%s\t%s\n' "$c" "$kind" "$BATCH" "${n:-}" "strace/$1-$2.txt" >>"$OUT/syscalls.tsv"
    log "strace $c $kind: $n calls for $BATCH requests"
}

measure_syscalls() {
    mkdir -p "$OUT/strace"
    printf 'config\tkind\trequests\tcalls\tfile\n' >"$OUT/syscalls.tsv"
    local c
    for c in ours stock nginx haproxy; do
        [[ " $CONFIGS " == *" $c "* ]] || continue
        [ "${STATUS[small:$c]:-ok}" = ok ] || continue
        strace_batch "$c" proxied /o/small.txt
        strace_batch "$c" newconn /o/small.txt close
        case "$c" in ours|stock) strace_batch "$c" static /s/small.txt ;; esac
    done
}

# --- instructions per request: callgrind on httpd -X ---------------------------------
# The single-process httpd runs as nobody from the start: its vgdb FIFOs
# must belong to the user the process ends up as, or callgrind_control
# cannot reach it. Counters are zeroed after a warm-up and dumped after each
# batch, so start-up and shutdown never count.
AS_NOBODY=(setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups
    env USER=nobody LOGNAME=nobody HOME=/)

cg_control() {
    timeout 60 "${AS_NOBODY[@]}" callgrind_control --vgdb-prefix="$CG_DIR/vgdb" "$@" \
        >>"$CG_DIR/control.log" 2>&1
}

# cg_dump NAME: dumps the counters since the last zero/dump; prints the file.
cg_dump() {
    local before after f
    before=$(ls "$CG_DIR"/callgrind.out.* 2>/dev/null | wc -l)
    cg_control -d "$1" "$CG_PID" || return 1
    for _ in $(seq 100); do
        after=$(ls "$CG_DIR"/callgrind.out.* 2>/dev/null | wc -l)
        [ "$after" -gt "$before" ] && break
        sleep 0.1
    done
    f=$(grep -l "^desc: Trigger: dump $1\$" "$CG_DIR"/callgrind.out.* 2>/dev/null | tail -n 1)
    [ -n "$f" ] && echo "$f"
}

callgrind_one() {
    local c=$1 port url
    CG_DIR=$RUN/cg-$c
    port=$P_CG_OURS
    [ "$c" = stock ] && port=$P_CG_STOCK
    write_httpd_conf "$c" "$CG_DIR" "$port" foreground
    cp "$CG_DIR/httpd.conf" "$OUT/confs/$c-httpd-X.conf"
    chown -R nobody "$CG_DIR"
    url=http://127.0.0.1:$port
    "${PIN_PROXY[@]}" "${AS_NOBODY[@]}" valgrind --tool=callgrind --vgdb-prefix="$CG_DIR/vgdb" \
        --callgrind-out-file="$CG_DIR/callgrind.out" \
        "$HTTPD" -X -f "$CG_DIR/httpd.conf" >"$CG_DIR/valgrind.log" 2>&1 &
    CG_PID=$!
    note_cmd callgrind "${PIN_PROXY[@]}" "${AS_NOBODY[@]}" valgrind --tool=callgrind \
        --vgdb-prefix="$CG_DIR/vgdb" --callgrind-out-file="$CG_DIR/callgrind.out" \
        "$HTTPD" -X -f "$CG_DIR/httpd.conf"
    note_cmd callgrind-control callgrind_control --vgdb-prefix="$CG_DIR/vgdb" "-z (or -d NAME)" "$CG_PID" \
        " # as nobody, like valgrind"
    echo "$CG_PID" >"$CG_DIR/valgrind.pid"
    SERVICES+=("callgrind-$c:$CG_DIR/valgrind.pid")
    if ! wait_http "$url/o/small.txt" 120; then
        log "callgrind $c: httpd -X did not answer; $CG_DIR/valgrind.log"
        return 1
    fi
    run_batch "$url/o/small.txt" 50 && run_batch "$url/s/small.txt" 50 \
        && run_batch "$url/b/small.txt" 50 && run_batch "$url/o/large.bin" 2 \
        && run_batch "$url/o/small.txt" 50 close || return 1
    cg_control -z "$CG_PID" || { log "callgrind $c: callgrind_control failed"; return 1; }
    local kind path n f close
    for kind in proxied-small static-small balanced-small proxied-large newconn-small; do
        close=
        case "$kind" in
            proxied-small) path=/o/small.txt n=$CG_BATCH ;;
            static-small) path=/s/small.txt n=$CG_BATCH ;;
            balanced-small) path=/b/small.txt n=$CG_BATCH ;;
            proxied-large) path=/o/large.bin n=$CG_LARGE ;;
            newconn-small) path=/o/small.txt n=$CG_BATCH close=close ;;
        esac
        [ "$n" -gt 0 ] || continue
        run_batch "$url$path" "$n" $close || return 1
        f=$(cg_dump "$kind") || { log "callgrind $c: dump $kind failed"; return 1; }
        cp "$f" "$OUT/callgrind/$c-$kind.out"
        callgrind_annotate --auto=no --threshold=99 "$f" >"$OUT/callgrind/$c-$kind.annotate.txt" 2>&1
        printf '%s\t%s\t%s\t%s\n' "$c" "$kind" "$n" "callgrind/$c-$kind.out" >>"$OUT/callgrind.tsv"
        log "callgrind $c $kind: $(sed -n 's/^summary: //p' "$f") instructions for $n requests"
    done
}

measure_callgrind() {
    mkdir -p "$OUT/callgrind"
    printf 'config\tkind\trequests\tfile\n' >"$OUT/callgrind.tsv"
    local c
    for c in ours stock; do
        [[ " $CONFIGS " == *" $c "* ]] || continue
        callgrind_one "$c" || log "callgrind $c: incomplete"
        stop_pidfile "callgrind-$c" "$RUN/cg-$c/valgrind.pid"
    done
}
