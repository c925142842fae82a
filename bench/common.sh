# common.sh - sourced by the benchmarks.

# bench_setup: a work folder in $work (readable by nginx's www-data workers),
# removed at exit together with every process whose pid is added to pids.
bench_setup() {
    work=$(mktemp -d)
    chmod 755 "$work"
    pids=()
    trap 'for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"' EXIT
}

# port: a free TCP port on 127.0.0.1.
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_proxy PORT: microsocks on 127.0.0.1:PORT, its pid added to pids.
start_proxy() {
    microsocks -i 127.0.0.1 -p "$1" >/dev/null 2>&1 &
    pids+=($!)
}

# start_nginx DIR PORT [WORKERS] [BODY] serves DIR/www on 127.0.0.1:PORT
# with WORKERS worker processes (default 1), keep-alive and no access log,
# or answers every request with BODY from memory (`return 200`) when given,
# and leaves nginx's pid in NGINX_PID. DIR must be readable by www-data.
# NGINX_PREFIX runs it under a command (taskset -c 0 pins it and its workers).
start_nginx() {
    local dir=$1 port=$2 workers=${3:-1} body=${4:-}
    local serve="root $dir/www;"
    [ -n "$body" ] && serve="location / { return 200 '$body'; }"
    mkdir -p "$dir/www" "$dir/nginx"
    cat >"$dir/nginx/nginx.conf" <<CONF
daemon off;
worker_processes $workers;
pid $dir/nginx/nginx.pid;
error_log $dir/nginx/error.log;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 1000000;
    default_type application/json;
    client_body_temp_path $dir/nginx;
    proxy_temp_path $dir/nginx;
    fastcgi_temp_path $dir/nginx;
    uwsgi_temp_path $dir/nginx;
    scgi_temp_path $dir/nginx;
    server { listen 127.0.0.1:$port; $serve }
}
CONF
    ${NGINX_PREFIX:-} nginx -c "$dir/nginx/nginx.conf" &
    NGINX_PID=$!
}

# Writes standard input to a results file, then what the file held under
# its marker line: the benchmark's own table is replaced, the notes written
# under it by hand are kept.
RESULTS_MARKER='<!-- Generated above by the benchmark; the notes below are kept when it runs again. -->'
write_result() {
    local file=$1 notes=""
    if [ -f "$file" ] && grep -qxF "$RESULTS_MARKER" "$file"; then
        notes=$(sed -n "\\|^$RESULTS_MARKER\$|,\$p" "$file" | tail -n +2)
    fi
    {
        cat
        echo
        echo "$RESULTS_MARKER"
        if [ -n "$notes" ]; then printf '%s\n' "$notes"; fi
    } >"$file.new"
    mv "$file.new" "$file"
}
