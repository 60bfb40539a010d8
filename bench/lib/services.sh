# bench/lib/services.sh -- what bench/run starts and stops: packages, the
# build of our modules, the docroot, ports, the config of every server,
# starting them pinned, checking each scenario works before it is timed,
# and stopping everything by pid. Sourced by bench/run; measuring lives in
# bench/lib/measure.sh.

log() { printf '%s: %s\n' "$prog" "$*"; }
die() { log "$*" >&2; exit 1; }

# --- packages -----------------------------------------------------------------
# The build needs (scripts/deps) plus the servers and tools of the bench.
# Installing nginx or haproxy must not start Debian's own services: a
# policy-rc.d forbids service starts for the length of the install.
bench_packages=(nginx haproxy wrk valgrind strace curl perl util-linux iproute2 procps)

install_deps() {
    "$src/scripts/deps" >/dev/null || die "scripts/deps failed: cannot install the build dependencies"
    local missing=() p
    for p in "${bench_packages[@]}"; do
        dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q ' installed$' || missing+=("$p")
    done
    [ "${#missing[@]}" = 0 ] && return 0
    log "installing ${missing[*]}"
    local policy=/usr/sbin/policy-rc.d own=0
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod 755 "$policy"
        own=1
    fi
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -q --no-install-recommends "${missing[@]}" >"$DIR/apt.log" 2>&1; then
        apt-get update -q >>"$DIR/apt.log" 2>&1
        apt-get install -y -q --no-install-recommends "${missing[@]}" >>"$DIR/apt.log" 2>&1 \
            || { [ "$own" = 0 ] || rm -f "$policy"; tail -n 20 "$DIR/apt.log"; die "apt-get install failed"; }
    fi
    [ "$own" = 0 ] || rm -f "$policy"
}

# --- our modules ----------------------------------------------------------------
# sync_tree FROM TO: copies the files of FROM that differ into TO, stamped
# now, and leaves identical files alone, so that make rebuilds exactly what
# changed whatever the source's mtimes say.
sync_tree() {
    (cd "$1" && find . -type f -print0) | while IFS= read -r -d '' f; do
        if ! cmp -s "$1/$f" "$2/$f"; then
            mkdir -p "$2/$(dirname "$f")"
            cp "$1/$f" "$2/$f"
            touch "$2/$f"
        fi
    done
}

# Sets B (the build tree), BUILD_NOTE, OUR_LOADS (LoadModule lines) and
# OURS_BALANCER (1 when our balancer and byrequests are built).
build_ours() {
    if [ -n "${PRX_BUILDDIR:-}" ]; then
        B=$(cd "$PRX_BUILDDIR" 2>/dev/null && pwd -P) || die "PRX_BUILDDIR=$PRX_BUILDDIR does not exist"
        [ -f "$B/Makefile" ] || die "PRX_BUILDDIR=$B is not a configured build tree"
        if grep -q '^SAN_CFLAGS = .*sanitize' "$B/Makefile"; then
            die "PRX_BUILDDIR=$B is a sanitizer build: its modules do not load into a plain httpd"
        fi
        BUILD_NOTE="PRX_BUILDDIR=$B (as given)"
        BUILD_COMMIT="? (PRX_BUILDDIR)"
        BUILD_DIRTY=0
    else
        case "$SOURCE" in worktree|HEAD) ;; *) die "BENCH_SOURCE=$SOURCE: use worktree or HEAD" ;; esac
        B=$DIR/build
        [ "$SOURCE" = HEAD ] && B=$DIR/build-head
        local stage=$DIR/stage
        rm -rf "$stage"
        mkdir -p "$stage" "$B"
        if [ "$SOURCE" = worktree ]; then
            (cd "$src" && git ls-files -co --exclude-standard -z \
                | tar --null --ignore-failed-read -T - -cf - 2>/dev/null) | tar -C "$stage" -xf -
        else
            (cd "$src" && git archive HEAD) | tar -C "$stage" -xf -
        fi
        sync_tree "$stage" "$B"
        rm -rf "$stage"
        local blog=$B/bench-build.log
        : >"$blog"
        if [ ! -x "$B/configure" ]; then
            log "autoreconf -fi (in $B)"
            (cd "$B" && autoreconf -fi) >>"$blog" 2>&1 || { tail -n 30 "$blog"; die "autoreconf failed"; }
        fi
        if [ ! -f "$B/Makefile" ]; then
            log "configure (in $B)"
            (cd "$B" && ./configure) >>"$blog" 2>&1 || { tail -n 30 "$blog"; die "configure failed"; }
        fi
        log "make (in $B, from the $SOURCE)"
        if ! make -C "$B" -j"$(nproc)" >>"$blog" 2>&1; then
            tail -n 40 "$blog"
            [ "$SOURCE" = worktree ] && log "(uncommitted work in progress? BENCH_SOURCE=HEAD builds the last commit)"
            die "the build failed; log: $blog"
        fi
        BUILD_NOTE="$B, built from the $SOURCE of $src"
        BUILD_COMMIT=$(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo '?')
        BUILD_DIRTY=0
        if [ "$SOURCE" = worktree ]; then
            BUILD_DIRTY=$(git -C "$src" status --porcelain --untracked-files=normal 2>/dev/null | wc -l)
        fi
    fi
    HTTPD=$(sed -n 's/^HTTPD_BIN = //p' "$B/Makefile")
    APXS=$(sed -n 's/^APXS = //p' "$B/Makefile")
    [ -x "$HTTPD" ] || HTTPD=/usr/sbin/apache2
    LIBEXEC=$("${APXS:-apxs}" -q LIBEXECDIR 2>/dev/null || echo /usr/lib/apache2/modules)
    local all
    all=$("$src/t/list-modules" "$B") || die "cannot list the modules of $B"
    # The same proxy modules as the stock httpd loads, nothing more.
    OUR_LOADS=$(echo "$all" | grep -E '^LoadModule (proxy|proxy_http|proxy_balancer|lbmethod_byrequests)_module ')
    OURS_BALANCER=0
    if echo "$OUR_LOADS" | grep -q '^LoadModule proxy_balancer_module ' \
        && echo "$OUR_LOADS" | grep -q '^LoadModule lbmethod_byrequests_module '; then
        OURS_BALANCER=1
    fi
    log "our modules: $(echo "$OUR_LOADS" | awk '{print $2}' | tr '\n' ' ')"
    [ "$OURS_BALANCER" = 1 ] || log "our mod_proxy_balancer/mod_lbmethod_byrequests: not built yet"
}

# --- files the origin serves ------------------------------------------------------
# o/ is proxied to origin o1, b/ through the balancer (o1 and o2), s/ is
# served by httpd itself (the static baseline of the deterministic figures).
make_docroot() {
    WWW=$RUN/www
    local d
    for d in o b s; do
        mkdir -p "$WWW/$d"
        { head -c 99 /dev/zero | tr '\0' 'x'; echo; } >"$WWW/$d/small.txt"
        if [ "$d" = o ]; then
            head -c 1048576 /dev/urandom >"$WWW/$d/large.bin"
        else
            cp "$WWW/o/large.bin" "$WWW/$d/large.bin"
        fi
    done
    # Sparse: no disk, all zeroes; what matters is the proxy's memory.
    truncate -s "$RSS_BYTES" "$WWW/o/huge.bin"
    head -c 65536 /dev/urandom >"$RUN/post64k.bin"
    chmod -R a+rX "$RUN"
}

# --- ports --------------------------------------------------------------------
port_free() {
    [ -z "$(ss -Htan "( sport = :$1 )" 2>/dev/null)" ] && ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

pick_ports() {
    local p=$PORT_BASE v
    for v in P_O1 P_O2 P_OURS P_STOCK P_NGINX P_HAPROXY P_CG_OURS P_CG_STOCK; do
        while ! port_free "$p"; do
            p=$((p + 1))
            [ "$p" -lt 65000 ] || die "no free port above $PORT_BASE"
        done
        printf -v "$v" '%s' "$p"
        p=$((p + 1))
    done
}

cfg_port() {
    case "$1" in
        ours) echo "$P_OURS" ;; stock) echo "$P_STOCK" ;; nginx) echo "$P_NGINX" ;;
        haproxy) echo "$P_HAPROXY" ;; direct) echo "$P_O1" ;;
    esac
}

# --- configurations -----------------------------------------------------------
write_origin_conf() {
    local d=$RUN/origin
    mkdir -p "$d/tmp" "$d/logs"
    cat >"$d/nginx.conf" <<EOF
# The origin of bench/run: two servers (o1, o2) of one nginx worker.
worker_processes 1;
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections 8192; }
http {
    access_log off;
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000000;
    keepalive_timeout 300s;
    client_body_temp_path $d/tmp/body;
    proxy_temp_path $d/tmp/proxy;
    fastcgi_temp_path $d/tmp/fastcgi;
    uwsgi_temp_path $d/tmp/uwsgi;
    scgi_temp_path $d/tmp/scgi;
    server {
        listen 127.0.0.1:$P_O1 backlog=4096;
        root $WWW;
        add_header X-Origin o1;
        # POST sink: answers at once and discards the body
        location ~ ^/[ob]/upload\$ { client_max_body_size 0; return 200 "ok\n"; }
    }
    server {
        listen 127.0.0.1:$P_O2 backlog=4096;
        root $WWW;
        add_header X-Origin o2;
        location ~ ^/[ob]/upload\$ { client_max_body_size 0; return 200 "ok\n"; }
    }
}
EOF
}

# write_httpd_conf KIND DIR PORT [foreground]: KIND ours or stock. Only the
# LoadModule lines of the proxy modules differ between the two; the
# foreground variant (httpd -X under callgrind) runs as an unprivileged
# user from the start, so it has no User/Group lines.
write_httpd_conf() {
    local kind=$1 d=$2 port=$3 fg=${4:-}
    mkdir -p "$d/run"
    {
        echo "# bench/run: httpd with the $kind proxy modules."
        echo "ServerRoot \"$d\""
        echo "DefaultRuntimeDir \"$d/run\""
        echo "PidFile \"$d/httpd.pid\""
        echo "ErrorLog \"$d/error_log\""
        echo "LogLevel warn"
        echo "Listen 127.0.0.1:$port"
        echo "ServerName 127.0.0.1"
        [ -n "$fg" ] || printf 'User nobody\nGroup %s\n' "$(id -gn nobody)"
        echo "LoadModule mpm_event_module $LIBEXEC/mod_mpm_event.so"
        echo "LoadModule authz_core_module $LIBEXEC/mod_authz_core.so"
        echo "LoadModule slotmem_shm_module $LIBEXEC/mod_slotmem_shm.so"
        echo "# --- the proxy modules: the only lines that differ"
        if [ "$kind" = ours ]; then
            echo "$OUR_LOADS"
        else
            local m
            for m in proxy proxy_http proxy_balancer lbmethod_byrequests; do
                echo "LoadModule ${m}_module $LIBEXEC/mod_$m.so"
            done
        fi
        echo "# --- the same for ours and stock from here on"
        httpd_common
    } >"$d/httpd.conf"
}

# What ours and stock share: one child of 64 threads (so that the child's
# RSS and system calls are one process's), unlimited keep-alive, no access
# log, pooled workers defined by ProxyPass.
httpd_common() {
    cat <<EOF
StartServers 1
ServerLimit 1
ThreadLimit 64
ThreadsPerChild 64
MaxRequestWorkers 64
MinSpareThreads 1
MaxSpareThreads 64
MaxConnectionsPerChild 0
ListenBacklog 4096
KeepAlive On
KeepAliveTimeout 30
MaxKeepAliveRequests 0
Timeout 60
DocumentRoot "$WWW"
<Directory "$WWW">
    Require all granted
</Directory>
# BENCH_HTTPD_EXTRA (before the ProxyPass lines, which create the workers)
$HTTPD_EXTRA
ProxyPass /o/ http://127.0.0.1:$P_O1/o/
<IfModule mod_proxy_balancer.c>
<Proxy balancer://pool>
    BalancerMember http://127.0.0.1:$P_O1
    BalancerMember http://127.0.0.1:$P_O2
    ProxySet lbmethod=byrequests
</Proxy>
ProxyPass /b/ balancer://pool/b/
</IfModule>
EOF
}

write_nginx_conf() {
    local d=$RUN/nginx
    mkdir -p "$d/tmp" "$d/logs"
    cat >"$d/nginx.conf" <<EOF
# bench/run: nginx as the reference reverse proxy (one worker, pooled
# upstream connections, no temp files).
worker_processes 1;
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections 8192; }
http {
    access_log off;
    keepalive_requests 100000000;
    keepalive_timeout 300s;
    client_max_body_size 0;
    client_body_buffer_size 128k;
    client_body_temp_path $d/tmp/body;
    proxy_temp_path $d/tmp/proxy;
    fastcgi_temp_path $d/tmp/fastcgi;
    uwsgi_temp_path $d/tmp/uwsgi;
    scgi_temp_path $d/tmp/scgi;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_max_temp_file_size 0;
    upstream o { server 127.0.0.1:$P_O1; keepalive 64; }
    upstream b { server 127.0.0.1:$P_O1; server 127.0.0.1:$P_O2; keepalive 64; }
    server {
        listen 127.0.0.1:$P_NGINX backlog=4096;
        location /o/ { proxy_pass http://o; }
        location /b/ { proxy_pass http://b; }
    }
}
EOF
}

write_haproxy_conf() {
    local d=$RUN/haproxy
    mkdir -p "$d"
    cat >"$d/haproxy.cfg" <<EOF
# bench/run: HAProxy as the reference (one thread, idle server
# connections reused by any client).
global
    nbthread 1
    maxconn 4000
defaults
    mode http
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    timeout http-keep-alive 300s
    option http-keep-alive
    http-reuse always
frontend fe
    bind 127.0.0.1:$P_HAPROXY
    use_backend be_b if { path_beg /b/ }
    default_backend be_o
backend be_o
    server o1 127.0.0.1:$P_O1
backend be_b
    balance roundrobin
    server o1 127.0.0.1:$P_O1
    server o2 127.0.0.1:$P_O2
EOF
}

# --- starting and stopping --------------------------------------------------------
SERVICES=()

# wait_http URL SECONDS: polls until URL answers 200.
wait_http() {
    local n=$(($2 * 10))
    while [ "$n" -gt 0 ]; do
        [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$1")" = 200 ] && return 0
        sleep 0.1
        n=$((n - 1))
    done
    return 1
}

# stop_pidfile NAME FILE: TERM the pids in FILE, wait up to 20 s, KILL.
stop_pidfile() {
    local name=$1 f=$2 pid pids="" n
    [ -s "$f" ] || return 0
    for pid in $(cat "$f"); do
        kill -0 "$pid" 2>/dev/null && pids+=" $pid"
    done
    [ -n "$pids" ] || { rm -f "$f"; return 0; }
    # shellcheck disable=SC2086
    kill -TERM $pids 2>/dev/null
    for n in $(seq 200); do
        local alive=0
        for pid in $pids; do kill -0 "$pid" 2>/dev/null && alive=1; done
        [ "$alive" = 0 ] && break
        sleep 0.1
    done
    for pid in $pids; do
        if kill -0 "$pid" 2>/dev/null; then
            log "$name (pid $pid) ignored TERM: KILL"
            kill -KILL "$pid" 2>/dev/null
        fi
    done
    rm -f "$f"
}

stop_all() {
    local i
    for ((i = ${#SERVICES[@]} - 1; i >= 0; i--)); do
        stop_pidfile "${SERVICES[$i]%%:*}" "${SERVICES[$i]#*:}"
    done
    SERVICES=()
}

start_all() {
    write_origin_conf
    write_httpd_conf ours "$RUN/ours" "$P_OURS"
    write_httpd_conf stock "$RUN/stock" "$P_STOCK"
    write_nginx_conf
    write_haproxy_conf
    cp "$RUN/origin/nginx.conf" "$OUT/confs/origin-nginx.conf"
    cp "$RUN/ours/httpd.conf" "$OUT/confs/ours-httpd.conf"
    cp "$RUN/stock/httpd.conf" "$OUT/confs/stock-httpd.conf"
    cp "$RUN/nginx/nginx.conf" "$OUT/confs/nginx-proxy.conf"
    cp "$RUN/haproxy/haproxy.cfg" "$OUT/confs/haproxy.cfg"

    SERVICES+=("origin:$RUN/origin/nginx.pid")
    "${PIN_LOAD[@]}" nginx -e "$RUN/origin/error.log" -p "$RUN/origin" -c "$RUN/origin/nginx.conf" \
        || die "the origin nginx did not start"
    wait_http "http://127.0.0.1:$P_O1/o/small.txt" 10 || die "the origin does not answer on $P_O1"

    local c
    for c in ours stock; do
        SERVICES+=("$c:$RUN/$c/httpd.pid")
        "${PIN_PROXY[@]}" "$HTTPD" -f "$RUN/$c/httpd.conf" -k start \
            || die "httpd ($c) did not start: $(tail -n 5 "$RUN/$c/error_log" 2>/dev/null)"
    done
    SERVICES+=("nginx:$RUN/nginx/nginx.pid")
    "${PIN_PROXY[@]}" nginx -e "$RUN/nginx/error.log" -p "$RUN/nginx" -c "$RUN/nginx/nginx.conf" \
        || die "the nginx proxy did not start"
    SERVICES+=("haproxy:$RUN/haproxy/haproxy.pid")
    "${PIN_PROXY[@]}" haproxy -q -f "$RUN/haproxy/haproxy.cfg" -D -p "$RUN/haproxy/haproxy.pid" \
        || die "haproxy did not start"
    for c in ours stock nginx haproxy; do
        wait_http "http://127.0.0.1:$(cfg_port "$c")/o/small.txt" 20 \
            || log "$c does not answer on $(cfg_port "$c") (the scenarios will say so)"
    done
    log "started: origin :$P_O1/:$P_O2, ours :$P_OURS, stock :$P_STOCK, nginx :$P_NGINX, haproxy :$P_HAPROXY"
}

# cfg_roots CONFIG: the top pids of the processes whose CPU counts for it.
cfg_roots() {
    case "$1" in
        ours|stock) cat "$RUN/$1/httpd.pid" ;;
        nginx) cat "$RUN/nginx/nginx.pid" ;;
        haproxy) cat "$RUN/haproxy/haproxy.pid" ;;
        direct) cat "$RUN/origin/nginx.pid" ;;
    esac 2>/dev/null | tr '\n' ' '
}

# child_pids PID: its children.
child_pids() { ps -o pid= --ppid "$1" | tr -d ' '; }

# httpd_child CONFIG: the single child of that httpd.
httpd_child() { child_pids "$(cat "$RUN/$1/httpd.pid")" | head -n 1; }

# --- scenarios ----------------------------------------------------------------------
scen_path() {
    case "$1" in
        small|newconn) echo /o/small.txt ;;
        large) echo /o/large.bin ;;
        upload) echo /o/upload ;;
        balancer) echo /b/small.txt ;;
    esac
}

declare -A STATUS

# check_one SCENARIO CONFIG: one request as wrk will send it; prints "ok"
# or why not.
check_one() {
    local s=$1 c=$2 url res code size want
    if [ "$s" = balancer ]; then
        [ "$c" = direct ] && { echo "n/a (no balancer)"; return; }
        [ "$c" = ours ] && [ "$OURS_BALANCER" = 0 ] && { echo "not built yet"; return; }
    fi
    url=http://127.0.0.1:$(cfg_port "$c")$(scen_path "$s")
    case "$s" in
        upload)
            res=$(curl -s -o /dev/null -w '%{http_code} %{size_download}' --max-time 10 \
                -H 'Expect:' -H 'Content-Type: application/octet-stream' \
                --data-binary @"$RUN/post64k.bin" "$url")
            want="200 3" ;;
        newconn)
            res=$(curl -s -o /dev/null -w '%{http_code} %{size_download}' --max-time 10 \
                -H 'Connection: close' "$url")
            want="200 100" ;;
        large)
            res=$(curl -s -o /dev/null -w '%{http_code} %{size_download}' --max-time 10 "$url")
            want="200 1048576" ;;
        *)
            res=$(curl -s -o /dev/null -w '%{http_code} %{size_download}' --max-time 10 "$url")
            want="200 100" ;;
    esac
    if [ "$res" != "$want" ]; then
        echo "failed: got HTTP/size '$res', wanted '$want'"
        return
    fi
    if [ "$s" = balancer ]; then
        local seen i
        seen=$(for i in 1 2 3 4 5 6; do curl -s -D - -o /dev/null --max-time 5 "$url"; done \
            | tr -d '\r' | sed -n 's/^X-Origin: //Ip' | sort -u | tr '\n' ' ')
        case "$seen" in
            "o1 o2 ") ;;
            *) echo "failed: members seen over 6 requests: ${seen:-none}"; return ;;
        esac
    fi
    echo ok
}

validate_all() {
    local s c st
    printf 'scenario\tconfig\tstatus\n' >"$OUT/status.tsv"
    for s in $SCENARIOS; do
        for c in $CONFIGS; do
            st=$(check_one "$s" "$c")
            STATUS[$s:$c]=$st
            printf '%s\t%s\t%s\n' "$s" "$c" "$st" >>"$OUT/status.tsv"
            [ "$st" = ok ] || log "scenario $s, $c: $st"
        done
    done
}

# runnable_configs SCENARIO: the configurations that passed check_one.
runnable_configs() {
    local c out=""
    for c in $CONFIGS; do
        [ "${STATUS[$1:$c]}" = ok ] && out+="$c "
    done
    echo "${out% }"
}

# --- what the report says about the run ---------------------------------------------
first_line() { "$@" 2>&1 | head -n 1; }

write_meta() {
    local perf
    if perf stat -e instructions true 2>&1 | grep -q 'not supported'; then
        perf="not supported here (perf stat -e instructions true)"
    elif command -v perf >/dev/null && perf stat -e instructions true >/dev/null 2>&1; then
        perf="supported (callgrind is used all the same: it is deterministic)"
    else
        perf="not available"
    fi
    {
        printf 'date\t%s\n' "$(date -u '+%F %T UTC')"
        printf 'stamp\t%s\n' "$stamp"
        printf 'cpu\t%s\n' "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
        printf 'cores\t%s\n' "$(nproc)"
        printf 'memory\t%s\n' "$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
        printf 'uname\t%s\n' "$(uname -srvmo)"
        printf 'os\t%s\n' "$(. /etc/os-release && echo "$PRETTY_NAME")"
        printf 'httpd\t%s\n' "$("$HTTPD" -v | sed -n 's/^Server version: //p')"
        printf 'httpd_bin\t%s\n' "$HTTPD"
        printf 'stock_modules\t%s\n' "$LIBEXEC (Debian package apache2-bin $(dpkg-query -W -f='${Version}' apache2-bin 2>/dev/null))"
        printf 'nginx\t%s\n' "$(first_line nginx -v | sed 's/^nginx version: //')"
        printf 'haproxy\t%s\n' "$(first_line haproxy -v | sed 's/ version//; s/ - https.*//')"
        printf 'wrk\t%s\n' "$(first_line wrk -v | sed 's/ \[.*//')"
        printf 'valgrind\t%s\n' "$(first_line valgrind --version)"
        printf 'strace\t%s\n' "$(first_line strace -V | sed 's/ -- version//')"
        printf 'curl\t%s\n' "$(first_line curl -V | cut -d' ' -f1-2)"
        printf 'perf\t%s\n' "$perf"
        printf 'commit\t%s\n' "$BUILD_COMMIT"
        printf 'dirty_files\t%s\n' "$BUILD_DIRTY"
        printf 'build\t%s\n' "$BUILD_NOTE"
        printf 'ours_balancer\t%s\n' "$OURS_BALANCER"
        printf 'rounds\t%s\n' "$ROUNDS"
        printf 'seconds\t%s\n' "$SECONDS_PER"
        printf 'warmup\t%s\n' "$WARMUP"
        printf 'scenarios\t%s\n' "$SCENARIOS"
        printf 'configs\t%s\n' "$CONFIGS"
        printf 'conns\t%s\n' "$CONNS"
        printf 'threads\t%s\n' "$THREADS"
        printf 'extras\t%s\n' "$EXTRAS"
        printf 'batch\t%s\n' "$BATCH"
        printf 'cg_batch\t%s\n' "$CG_BATCH"
        printf 'cg_large\t%s\n' "$CG_LARGE"
        printf 'rss_bytes\t%s\n' "$RSS_BYTES"
        printf 'pinning\t%s\n' "$pinning"
        printf 'httpd_extra\t%s\n' "$(printf '%s' "$HTTPD_EXTRA" | tr '\n' ';')"
        printf 'clk_tck\t%s\n' "$(getconf CLK_TCK)"
        printf 'ports\torigin o1 %s, o2 %s; ours %s; stock %s; nginx %s; haproxy %s\n' \
            "$P_O1" "$P_O2" "$P_OURS" "$P_STOCK" "$P_NGINX" "$P_HAPROXY"
    } >"$OUT/meta.tsv"
}
