# nginx.sh - sourced by the benchmarks: start_nginx DIR PORT serves DIR/www
# on 127.0.0.1:PORT with one worker, keep-alive and no access log, and
# leaves nginx's pid in NGINX_PID. DIR must be readable by www-data.
start_nginx() {
    local dir=$1 port=$2
    mkdir -p "$dir/www" "$dir/nginx"
    cat >"$dir/nginx/nginx.conf" <<CONF
daemon off;
worker_processes 1;
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
    server { listen 127.0.0.1:$port; root $dir/www; }
}
CONF
    nginx -c "$dir/nginx/nginx.conf" &
    NGINX_PID=$!
}
