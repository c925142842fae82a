# wippy-c build. `make` builds build/wippy; `make SANITIZE=1` builds
# build-asan/wippy with AddressSanitizer and UndefinedBehaviorSanitizer,
# `make SANITIZE=thread` build-tsan/wippy with ThreadSanitizer.
# BUILD=dir puts a build elsewhere.

PKGS := yaml-0.1 libuv jansson libssl libcrypto libnghttp2 libidn2 uuid libpcre2-8
CC ?= cc

ifeq ($(SANITIZE),1)
BUILD ?= build-asan
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
OPTFLAGS := -O1 -g
else ifeq ($(SANITIZE),thread)
BUILD ?= build-tsan
SANFLAGS := -fsanitize=thread -fno-omit-frame-pointer
OPTFLAGS := -O1 -g
else
BUILD ?= build
SANFLAGS :=
OPTFLAGS := -O2 -g
endif

WERROR ?= -Werror
CFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra $(WERROR) -Wshadow -Wno-unused-parameter \
          $(OPTFLAGS) $(SANFLAGS) -Isrc $(shell pkg-config --cflags $(PKGS))
LDFLAGS := $(SANFLAGS)
LDLIBS := $(shell pkg-config --libs $(PKGS)) -lm

SOURCES := $(sort $(wildcard src/*/*.c))

# Tailscale: src/net/tailnode (Go, tsnet) built as a shared object beside
# wippy, loaded only when a tailscale entry is first used (a runtime without
# one never starts Go). Without a Go toolchain (1.25 or newer; the go
# command fetches the exact one go.mod names) it is not built and tailscale
# entries fail with one line saying so. TAILSCALE=0 leaves it out on purpose.
GO ?= go
GO_VERSION := $(shell $(GO) env GOVERSION 2>/dev/null)
TAILSCALE ?= $(if $(filter go1.25% go1.26% go1.27% go1.28% go1.29% go1.3%,$(GO_VERSION)),1,0)
TAILNODE := $(BUILD)/wippy-tailnode.so
ifeq ($(origin TAILSCALE)$(TAILSCALE),file0)
$(warning ************************************************************************)
$(warning * No Go 1.25 or newer ($(or $(GO_VERSION),no go command)): Tailscale is LEFT OUT of this build.)
$(warning * network.tailscale entries will fail with one line saying so.)
$(warning * scripts/test fetches Go itself; TAILSCALE=0 says you mean it and silences this.)
$(warning ************************************************************************)
endif
ifeq ($(TAILSCALE),1)
TAILNODE_LIBRARY := $(TAILNODE)
else
TAILNODE_LIBRARY :=
endif
LIB_OBJECTS := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(SOURCES))

# llhttp (Node's HTTP/1.1 parser, http-parser's maintained successor; not in
# Debian 12): scripts/fetch-llhttp brings its C sources, pinned by version
# and SHA-256, from a cache outside the checkout; they are built here.
LLHTTP_DIR := $(BUILD)/llhttp
LLHTTP_HEADER := $(LLHTTP_DIR)/llhttp.h
LLHTTP_OBJECTS := $(addprefix $(BUILD)/obj/llhttp/,api.o http.o llhttp.o)
CFLAGS += -I$(LLHTTP_DIR)
LIB_OBJECTS += $(LLHTTP_OBJECTS)
# Lua 5.4.8 (Debian 12's 5.4.4 breaks a frame when a __concat metamethod
# grows the stack): scripts/fetch-lua brings its C sources, pinned by version
# and SHA-256, from a cache outside the checkout; they are built here, with
# the sanitizers of the build, as Lua's own makefile builds them for Linux.
LUA_DIR := $(BUILD)/lua
LUA_HEADER := $(LUA_DIR)/lua.h
LUA_MODULES := lapi lcode lctype ldebug ldo ldump lfunc lgc llex lmem lobject lopcodes lparser lstate lstring \
               ltable ltm lundump lvm lzio lauxlib lbaselib lcorolib ldblib liolib lmathlib loadlib loslib \
               lstrlib ltablib lutf8lib linit
LUA_OBJECTS := $(addprefix $(BUILD)/obj/lua54/,$(addsuffix .o,$(LUA_MODULES)))
CFLAGS := -I$(LUA_DIR) $(CFLAGS)
LIB_OBJECTS += $(LUA_OBJECTS)
LDLIBS += -ldl
# libcurl 8.22.0 (Debian 12's 7.88.1 takes 1.16x the time through SOCKS5 at
# 300 in flight): scripts/fetch-curl brings its sources, pinned by version
# and SHA-256, from a cache outside the checkout; CMake builds them here as a
# static library, without the sanitizers (as Debian's library was), with
# what the client uses: HTTP and HTTPS only, OpenSSL with Debian's CA
# bundle, HTTP/2 (nghttp2) and IDN (libidn2) as Debian's has them. It is
# linked from its build tree (no install step: `make install`'s DESTDIR
# would reach CMake's).
CURL_SOURCE := $(BUILD)/curl-src
CURL_BUILD := $(BUILD)/curl-build
CURL_LIBRARY := $(CURL_BUILD)/lib/libcurl.a
# What the client never uses is left out: the engines that would keep state
# in a handle from one request to the next (cookies, HSTS, alt-svc: a handle
# serves one caller after another, see src/http/client.c) or dial by
# themselves (DoH, and HTTPS records, ECH, c-ares and QUIC held off should
# a default change), and the rest a hostile server could reach (the other
# authentication schemes, MIME, WebSockets, the headers API, netrc).
CURL_LEFT_OUT := $(addprefix -DCURL_DISABLE_,$(addsuffix =ON,COOKIES HSTS ALTSVC DOH NETRC MIME FORM_API \
                 WEBSOCKETS HEADERS_API DIGEST_AUTH KERBEROS_AUTH NEGOTIATE_AUTH AWS BEARER_AUTH SHA512_256 \
                 HTTPSIG IPFS BINDLOCAL GETOPTIONS PROGRESS_METER)) \
                 -DCURL_ENABLE_NTLM=OFF -DUSE_HTTPSRR=OFF -DUSE_ECH=OFF -DENABLE_ARES=OFF -DUSE_QUICHE=OFF
CURL_OPTIONS := -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=$(CC) \
                -DBUILD_SHARED_LIBS=OFF -DBUILD_STATIC_LIBS=ON -DBUILD_CURL_EXE=OFF \
                -DBUILD_TESTING=OFF -DBUILD_EXAMPLES=OFF -DBUILD_LIBCURL_DOCS=OFF -DBUILD_MISC_DOCS=OFF \
                -DENABLE_CURL_MANUAL=OFF -DCMAKE_DISABLE_FIND_PACKAGE_Perl=ON -DHTTP_ONLY=ON -DCURL_DISABLE_LDAP=ON \
                -DCURL_USE_OPENSSL=ON -DUSE_NGHTTP2=ON -DUSE_LIBIDN2=ON -DCURL_USE_LIBPSL=OFF \
                -DCURL_USE_LIBSSH2=OFF -DCURL_ZLIB=OFF -DCURL_BROTLI=OFF -DCURL_ZSTD=OFF -DUSE_NGTCP2=OFF \
                -DCURL_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt -DCURL_CA_PATH=/etc/ssl/certs \
                $(CURL_LEFT_OUT)
# libcurl is built again when these options change.
CURL_OPTIONS_STAMP := $(BUILD)/curl-options
$(shell mkdir -p $(BUILD) && echo '$(CURL_OPTIONS)' | cmp -s - $(CURL_OPTIONS_STAMP) || \
        echo '$(CURL_OPTIONS)' >$(CURL_OPTIONS_STAMP))
CFLAGS := -I$(CURL_SOURCE)/include $(CFLAGS)
# mimalloc 2.3.2 for the Lua heaps (src/vm/heap.c): scripts/fetch-mimalloc
# brings its C sources, pinned by version and SHA-256, from a cache outside
# the checkout; they are built here as one unit that replaces no malloc, its
# free lists encoded (MI_ENCODE_FREELIST, as glibc mangles its own).
# Sanitizer builds leave it out: their own allocator must see every block.
ifeq ($(SANFLAGS),)
MIMALLOC_DIR := $(BUILD)/mimalloc
MIMALLOC_HEADER := $(MIMALLOC_DIR)/include/mimalloc.h
MIMALLOC_OBJECT := $(BUILD)/obj/mimalloc/static.o
CFLAGS += -DWIPPY_MIMALLOC -I$(MIMALLOC_DIR)/include
LIB_OBJECTS += $(MIMALLOC_OBJECT)
endif
# The starter project of `wippy init --starter`: the netdemo's files, built in.
STARTER_FILES := $(sort $(shell find examples/netdemo/src -type f))
STARTER_OBJECT := $(BUILD)/obj/gen/starter.o
LIB_OBJECTS += $(STARTER_OBJECT)
MAIN_OBJECT := $(BUILD)/obj/main.o
UNIT_SOURCES := $(sort $(wildcard tests/unit/*.c))
UNIT_OBJECTS := $(patsubst tests/unit/%.c,$(BUILD)/unit/%.o,$(UNIT_SOURCES))

.PHONY: all test unit integration clean bench fuzz
all: $(BUILD)/wippy $(BUILD)/unit-tests

$(BUILD)/wippy: $(MAIN_OBJECT) $(LIB_OBJECTS) $(CURL_LIBRARY) | $(TAILNODE_LIBRARY)
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/unit-tests: $(UNIT_OBJECTS) $(LIB_OBJECTS) $(CURL_LIBRARY)
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Parts of tsnet left out of the node: whatever would contact Tailscale's own
# servers (captive-portal probes, update checks, log and network-flow
# upload), the local gateway (port mapping) or cloud metadata services, the
# on-disk netmap cache (with it a restarted node reports itself up from the
# cached netmap before the control server has answered, its peers missing,
# and tsnet would dial their addresses from the host), and features wippy
# never uses. `ts_omit_` tags checked against tailscale.com v1.102.5.
TAILNODE_OMIT := captiveportal portmapper debugportmapper clientupdate logtail netlog useproxy posture \
                 cloud aws kube tpm drive taildrop ssh webclient relayserver wakeonlan syspolicy capture \
                 doctor completion qrcodes systray synology dbus networkmanager resolved iptables osrouter \
                 tap bird appconnectors advertiseexitnode identityfederation oauthkey desktop_sessions \
                 linuxdnsfight sdnotify remoteconfig routecheck runtimemetrics tundevstats webbrowser syslog \
                 serviceclientprefs colorable flashappliance cachenetmap
comma := ,
empty :=
space := $(empty) $(empty)
TAILNODE_TAGS := $(subst $(space),$(comma),$(strip $(addprefix ts_omit_,$(TAILNODE_OMIT))))

$(TAILNODE): src/net/tailnode/tailnode.go src/net/tailnode/go.mod src/net/tailnode/go.sum Makefile
	@mkdir -p $(dir $@)
	@echo "  GO      $@"
	@cd src/net/tailnode && $(GO) build -tags '$(TAILNODE_TAGS)' -buildmode=c-shared -trimpath -o $(abspath $@) .

$(LLHTTP_HEADER): scripts/fetch-llhttp
	@echo "  FETCH   llhttp"
	@scripts/fetch-llhttp $(LLHTTP_DIR)

# Its generated code is built as it comes, without our warnings.
$(BUILD)/obj/llhttp/%.o: $(LLHTTP_HEADER)
	@mkdir -p $(dir $@)
	@echo "  CC      llhttp/$*.c"
	@$(CC) -std=c11 $(OPTFLAGS) $(SANFLAGS) -I$(LLHTTP_DIR) -c -o $@ $(LLHTTP_DIR)/$*.c

$(LUA_HEADER): scripts/fetch-lua
	@echo "  FETCH   lua 5.4.8"
	@scripts/fetch-lua $(LUA_DIR)

# Built as they come, without our warnings.
$(BUILD)/obj/lua54/%.o: $(LUA_HEADER)
	@mkdir -p $(dir $@)
	@echo "  CC      lua/$*.c"
	@$(CC) -std=gnu99 $(OPTFLAGS) $(SANFLAGS) -DLUA_USE_LINUX -I$(LUA_DIR) -c -o $@ $(LUA_DIR)/$*.c

$(CURL_LIBRARY): scripts/fetch-curl $(CURL_OPTIONS_STAMP)
	@echo "  FETCH   curl 8.22.0"
	@scripts/fetch-curl $(CURL_SOURCE)
	@echo "  CMAKE   libcurl 8.22.0"
	@rm -rf $(CURL_BUILD)
	@{ cmake -S $(CURL_SOURCE) -B $(CURL_BUILD) $(CURL_OPTIONS) && \
	   cmake --build $(CURL_BUILD) --parallel $(shell nproc); } >$(BUILD)/curl-build.log 2>&1 \
	    || { tail -30 $(BUILD)/curl-build.log; echo "libcurl did not build: $(BUILD)/curl-build.log"; exit 1; }

$(MIMALLOC_HEADER): scripts/fetch-mimalloc
	@echo "  FETCH   mimalloc 2.3.2"
	@scripts/fetch-mimalloc $(MIMALLOC_DIR)

# Built as it comes, without our warnings.
$(MIMALLOC_OBJECT): $(MIMALLOC_HEADER)
	@mkdir -p $(dir $@)
	@echo "  CC      mimalloc/static.c"
	@$(CC) -std=gnu11 $(OPTFLAGS) -DNDEBUG -DMI_ENCODE_FREELIST=1 -w -I$(MIMALLOC_DIR)/include -c -o $@ \
	    $(MIMALLOC_DIR)/src/static.c

$(LIB_OBJECTS) $(MAIN_OBJECT) $(UNIT_OBJECTS): | $(LLHTTP_HEADER) $(LUA_HEADER) $(MIMALLOC_HEADER) $(CURL_LIBRARY)

# The version `wippy --version` prints: the git tag or commit it is built
# from; the stamp changes (and main.c is built again) only when that does.
WIPPY_VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo unknown)
$(BUILD)/version.stamp: FORCE
	@mkdir -p $(dir $@)
	@echo '$(WIPPY_VERSION)' | cmp -s - $@ || echo '$(WIPPY_VERSION)' > $@
FORCE:

$(BUILD)/obj/main.o: src/main.c $(BUILD)/version.stamp
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) -DWIPPY_VERSION='"$(WIPPY_VERSION)"' -MMD -MP -c -o $@ $<

$(BUILD)/gen/starter.c: $(STARTER_FILES) scripts/embed-files
	@mkdir -p $(dir $@)
	@scripts/embed-files $@ examples/netdemo/src $(STARTER_FILES)

$(STARTER_OBJECT): $(BUILD)/gen/starter.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/unit/%.o: tests/unit/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) -Itests/unit -MMD -MP -c -o $@ $<

unit: $(BUILD)/unit-tests
	@tests/unit/list.sh
	$(BUILD)/unit-tests

integration: $(BUILD)/wippy
	WIPPY=$(abspath $(BUILD)/wippy) python3 -m pytest -q tests/integration

# Installing: the binary and the tailnet library live together in
# $(PREFIX)/libexec/wippy-c (the library is loaded only from beside the
# binary), with $(PREFIX)/bin/wippy a link to it; the man page and the bash
# and zsh completions where those look. DESTDIR stages a package.
# `make release` is the same build, stripped (no debug information).
PREFIX ?= /usr/local
.PHONY: install release
install: $(BUILD)/wippy
	install -d $(DESTDIR)$(PREFIX)/libexec/wippy-c $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(BUILD)/wippy $(DESTDIR)$(PREFIX)/libexec/wippy-c/wippy
	if [ -f $(TAILNODE) ]; then install -m 0644 $(TAILNODE) $(DESTDIR)$(PREFIX)/libexec/wippy-c/; fi
	ln -sf ../libexec/wippy-c/wippy $(DESTDIR)$(PREFIX)/bin/wippy
	install -d $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/bash-completion/completions \
	    $(DESTDIR)$(PREFIX)/share/zsh/vendor-completions
	install -m 0644 share/wippy.1 $(DESTDIR)$(PREFIX)/share/man/man1/wippy.1
	install -m 0644 share/wippy.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/wippy
	install -m 0644 share/_wippy $(DESTDIR)$(PREFIX)/share/zsh/vendor-completions/_wippy

release:
	$(MAKE) BUILD=build-release OPTFLAGS=-O2 build-release/wippy
	strip build-release/wippy
	@if [ -f build-release/wippy-tailnode.so ]; then strip build-release/wippy-tailnode.so; fi
	@ls -l build-release/wippy

# `make deb`: the Debian package of the release build (scripts/make-deb),
# in build-release/; scripts/test-package installs it in a fresh Debian 12
# tree and runs the netdemo with it.
.PHONY: deb
deb: release
	@scripts/make-deb build-release build-release

test: unit integration

clean:
	rm -rf build build-asan build-tsan build-release build-fuzz

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# Fuzzing (clang's libFuzzer): `make fuzz FUZZ_SECONDS=60` (clang is
# installed when missing). Each target runs for FUZZ_SECONDS from its corpus.
FUZZ_SECONDS ?= 30
FUZZ_FLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -Isrc -fsanitize=fuzzer,address,undefined
FUZZ_TARGETS := fuzz_socks5_codec fuzz_sam_codec fuzz_sam_client fuzz_http_request fuzz_typed_lua
.PHONY: fuzz-tools
# clang's fuzzer and sanitizer runtimes are a package of their own
# (libclang-rt-dev), which a clang installed without recommends lacks.
fuzz-tools:
	@bash -c 'source scripts/packages.sh && ensure_packages clang libclang-rt-dev'

build-fuzz/llhttp/llhttp.h: scripts/fetch-llhttp
	@scripts/fetch-llhttp build-fuzz/llhttp

build-fuzz/fuzz_http_request: tests/fuzz/fuzz_http_request.c src/http/request_reader.c src/util/memory.c build-fuzz/llhttp/llhttp.h | fuzz-tools
	clang $(FUZZ_FLAGS) -Ibuild-fuzz/llhttp -o $@ $(filter %.c,$^) build-fuzz/llhttp/api.c build-fuzz/llhttp/http.c build-fuzz/llhttp/llhttp.c

build-fuzz/fuzz_socks5_codec: tests/fuzz/fuzz_socks5_codec.c src/net/socks5_codec.c src/util/error.c | fuzz-tools
	@mkdir -p build-fuzz
	clang $(FUZZ_FLAGS) -o $@ $(filter %.c,$^)

build-fuzz/fuzz_sam_codec: tests/fuzz/fuzz_sam_codec.c src/net/sam_codec.c src/util/error.c src/util/memory.c | fuzz-tools
	@mkdir -p build-fuzz
	clang $(FUZZ_FLAGS) -o $@ $(filter %.c,$^) -lcrypto

build-fuzz/fuzz_sam_client: tests/fuzz/fuzz_sam_client.c src/net/sam_client.c src/net/sam_codec.c src/util/error.c src/util/memory.c | fuzz-tools
	@mkdir -p build-fuzz
	clang $(FUZZ_FLAGS) -o $@ $(filter %.c,$^) -lcrypto

build-fuzz/fuzz_typed_lua: tests/fuzz/fuzz_typed_lua.c src/vm/typed_lua.c src/util/error.c src/util/memory.c | fuzz-tools
	@mkdir -p build-fuzz
	clang $(FUZZ_FLAGS) -o $@ $(filter %.c,$^)

fuzz: $(addprefix build-fuzz/,$(FUZZ_TARGETS))
	@for target in $(FUZZ_TARGETS); do \
	    corpus=$${target#fuzz_}; \
	    mkdir -p build-fuzz/corpus-$$corpus; \
	    echo "  FUZZ    $$target ($(FUZZ_SECONDS) s)"; \
	    build-fuzz/$$target -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	        build-fuzz/corpus-$$corpus tests/fuzz/corpus/$$corpus 2>build-fuzz/$$target.log \
	        || { tail -40 build-fuzz/$$target.log; exit 1; }; \
	    grep -E "stat::number_of_executed_units" build-fuzz/$$target.log; \
	done
