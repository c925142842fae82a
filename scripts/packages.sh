# packages.sh - sourced by the other scripts: installs the Debian packages a
# step needs, skipping what is already there (idempotent).

# The packages needed to build wippy.
WIPPY_BUILD_PACKAGES="gcc make pkg-config liblua5.4-dev libyaml-dev libuv1-dev libjansson-dev libcurl4-openssl-dev libssl-dev libhttp-parser-dev"

# Real peers the tests start on loopback (tor only ever inside a network
# namespace holding nothing but lo), and the tools for that namespace.
WIPPY_TEST_PACKAGES="microsocks tor iproute2 util-linux curl openssl python3"

ensure_packages() {
    local missing=()
    for package in "$@"; do
        dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    echo "installing: ${missing[*]}"
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
