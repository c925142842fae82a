# packages.sh - sourced by the other scripts: installs the Debian packages a
# step needs, skipping what is already there (idempotent).

# The packages needed to build wippy.
WIPPY_BUILD_PACKAGES="gcc make pkg-config libyaml-dev libuv1-dev libjansson-dev libssl-dev libnghttp2-dev libidn2-dev cmake uuid-dev
    libpcre2-dev"

# Real peers the tests start on loopback (nginx as the yardstick of the HTTP
# server's answers; tor only ever inside a network
# namespace holding nothing but lo), and the tools for that namespace.
WIPPY_TEST_PACKAGES="microsocks tor nginx iproute2 util-linux curl openssl python3 tzdata"

# One line on stderr per slow step, so a first run is never silent for minutes.
progress() { echo "wippy: $*" >&2; }

ensure_packages() {
    local missing=()
    for package in "$@"; do
        dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    progress "installing Debian packages: ${missing[*]}"
    $sudo apt-get update -qq
    # Packages such as tor start a system service when installed; that one
    # would dial public relays. policy-rc.d tells Debian not to start any.
    local guard=/usr/sbin/policy-rc.d placed=0
    if [ ! -e "$guard" ]; then
        printf '#!/bin/sh\nexit 101\n' | $sudo tee "$guard" >/dev/null
        $sudo chmod +x "$guard"
        placed=1
    fi
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
    [ "$placed" = 1 ] && $sudo rm -f "$guard"
    return 0
}

ensure_pytest() {
    python3 -m pytest --version >/dev/null 2>&1 && return 0
    ensure_packages python3 python3-pytest
    python3 -m pytest --version >/dev/null 2>&1 && return 0
    # a python3 outside Debian's (pyenv) does not see python3-pytest
    python3 -m pip install --quiet pytest
}

# python-jsonschema, the independent implementation json.validate's verdicts
# are compared with (tests/integration/test_json_schema.py).
ensure_python_jsonschema() {
    python3 -c 'import jsonschema' >/dev/null 2>&1 && return 0
    ensure_packages python3-jsonschema
    python3 -c 'import jsonschema' >/dev/null 2>&1 && return 0
    # a python3 outside Debian's (pyenv) does not see python3-jsonschema
    python3 -m pip install --quiet jsonschema
}

# Go builds the Tailscale node (src/net/tailnode) and the test control
# server. Debian 12's Go is too old; without a Go 1.26.6 or newer on PATH, the
# toolchain comes from the Go module proxy (golang.org/toolchain, verified by
# the go command's own checksum database on later use) into a cache outside
# the checkout. Exports PATH, and module and build caches kept there too.
WIPPY_CACHE=${WIPPY_CACHE:-/var/cache/wippy-c}
WIPPY_GO_VERSION=1.26.8

# pinned_archive URL SHA256 FILE - prints the path of FILE in the cache
# outside the checkout, downloaded from URL once and checked against SHA256
# (the fetch-* scripts' sources). A download that does not match is removed
# and the script stops.
pinned_archive() {
    local url=$1 sha256=$2 cache=$WIPPY_CACHE
    if ! mkdir -p "$cache" 2>/dev/null || [ ! -w "$cache" ]; then
        cache=${XDG_CACHE_HOME:-$HOME/.cache}/wippy-c
        mkdir -p "$cache"
    fi
    local archive=$cache/$3
    if [ ! -f "$archive" ] || ! echo "$sha256  $archive" | sha256sum --check --status; then
        command -v curl >/dev/null || ensure_packages curl ca-certificates >&2
        curl -fsSL --retry 3 -o "$archive.part" "$url"
        if ! echo "$sha256  $archive.part" | sha256sum --check --status; then
            echo "$(basename "$0"): $url does not have the pinned SHA-256 $sha256" >&2
            rm -f "$archive.part"
            exit 1
        fi
        mv "$archive.part" "$archive"
    fi
    echo "$archive"
}
ensure_go() {
    export GOPATH=${GOPATH:-$WIPPY_CACHE/go}
    export GOMODCACHE=${GOMODCACHE:-$WIPPY_CACHE/go/pkg/mod}
    export GOCACHE=${GOCACHE:-$WIPPY_CACHE/go-build}
    export PATH="$WIPPY_CACHE/go-toolchain/go/bin:$PATH"
    # tailscale.com v1.102 (src/net/tailnode/go.mod) wants Go 1.26.6 or newer
    case "$(go env GOVERSION 2>/dev/null)" in
        go1.26.[6-9] | go1.26.[1-9][0-9] | go1.2[7-9]* | go1.[3-9][0-9]*) return 0 ;;
    esac
    ensure_packages curl unzip ca-certificates
    progress "fetching Go $WIPPY_GO_VERSION from the Go module proxy into $WIPPY_CACHE (once)"
    local zip="$WIPPY_CACHE/go-toolchain.zip"
    mkdir -p "$WIPPY_CACHE"
    curl -fsSL -o "$zip" \
        "https://proxy.golang.org/golang.org/toolchain/@v/v0.0.1-go$WIPPY_GO_VERSION.linux-amd64.zip"
    rm -rf "$WIPPY_CACHE/go-toolchain"
    mkdir -p "$WIPPY_CACHE/go-toolchain"
    unzip -q "$zip" -d "$WIPPY_CACHE/go-toolchain.tmp"
    mv "$WIPPY_CACHE/go-toolchain.tmp/golang.org/toolchain@v0.0.1-go$WIPPY_GO_VERSION.linux-amd64" \
        "$WIPPY_CACHE/go-toolchain/go"
    rm -rf "$WIPPY_CACHE/go-toolchain.tmp" "$zip"
    chmod +x "$WIPPY_CACHE/go-toolchain/go/bin/"* "$WIPPY_CACHE/go-toolchain/go/pkg/tool/"*/* 2>/dev/null || true
}
