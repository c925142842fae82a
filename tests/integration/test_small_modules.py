"""base64 and hash as Go Wippy's (issue 16): values checked against
Python's own implementations, errors as `nil, err`."""
import base64
import hashlib
import hmac

from conftest import one_command_index, run_wippy

MAIN = r"""
local io = require("io")
local base64 = require("base64")
local hash = require("hash")

local function show(...)
  local parts = {}
  for i = 1, select("#", ...) do
    local v = select(i, ...)
    parts[#parts + 1] = type(v) == "string" and string.format("%q", v):gsub("\\\n", "\\n") or tostring(v)
  end
  io.print(table.concat(parts, " "))
end

local function main()
  for _, text in ipairs({"", "a", "ab", "abc", "hello", "a\0\255b"}) do
    local encoded = base64.encode(text)
    io.print(encoded, base64.decode(encoded) == text)
  end
  show(base64.decode("aGVs\r\nbG8="))
  show(base64.decode("!!!invalid!!!"))
  show(base64.decode("YQ="))
  show(base64.decode("YQ==YQ=="))
  show(base64.decode("Y=Q="))
  show(base64.encode(123))
  io.print(hash.md5("hello"), hash.sha1("hello"))
  io.print(hash.sha256("hello"), hash.sha512(""))
  io.print(#hash.sha256("hello", true), hash.hmac_sha256("data", "key"))
  io.print(hash.hmac_sha512("data", "key"), hash.hmac_sha1("", ""), hash.hmac_md5("data", "key"))
  local raw = hash.hmac_sha256("step", hash.hmac_sha256("data", "key", true))
  io.print(raw, hash.fnv32("hello"), hash.fnv32(""), string.format("%.0f", hash.fnv64("hello")))
  show(hash.sha256(42))
  show(hash.hmac_sha256("data", nil))
  return 0
end
return { main = main }
"""


def hexmac(name, data, key):
    return hmac.new(key, data, name).hexdigest()


def test_base64_and_hash_give_go_wippys_values_and_errors(make_app):
    app = make_app({"src/_index.yaml": one_command_index(["io", "base64", "hash"]), "src/main.lua": MAIN})
    result = run_wippy(app, "run", "main")
    assert result.code == 0, result
    lines = result.lines
    texts = [b"", b"a", b"ab", b"abc", b"hello", b"a\0\xffb"]
    assert lines[:6] == [f"{base64.b64encode(t).decode()}\ttrue" for t in texts], result
    assert lines[6] == '"hello"', result  # line breaks are skipped, as Go's decoder does
    assert lines[7:12] == ['nil illegal base64 data at input byte 0', 'nil illegal base64 data at input byte 3',
                           'nil illegal base64 data at input byte 4', 'nil illegal base64 data at input byte 1',
                           'nil string expected'], result
    assert lines[12] == f"{hashlib.md5(b'hello').hexdigest()}\t{hashlib.sha1(b'hello').hexdigest()}\tnil", result
    assert lines[13] == f"{hashlib.sha256(b'hello').hexdigest()}\t{hashlib.sha512(b'').hexdigest()}\tnil"
    assert lines[14] == f"32\t{hexmac('sha256', b'data', b'key')}\tnil"
    assert lines[15] == (f"{hexmac('sha512', b'data', b'key')}\t{hexmac('sha1', b'', b'')}\t"
                         f"{hexmac('md5', b'data', b'key')}\tnil")
    chained = hmac.new(hmac.new(b"key", b"data", "sha256").digest(), b"step", "sha256").hexdigest()
    # FNV-1 (not 1a), as Go's fnv.New32/New64 that Go Wippy calls; fnv64 is a float there too
    assert lines[16] == f"{chained}\t3069866343\t2166136261\t8883723591023973376", result
    assert lines[17:] == ['nil data must be a string', 'nil secret must be a string'], result


UUID_MAIN = r"""
local io = require("io")
local uuid = require("uuid")
local DNS = "6ba7b810-9dad-11d1-80b4-00c04fd430c8"

local function main()
  local v1, v4, v7 = uuid.v1(), uuid.v4(), uuid.v7()
  io.print(v1, v4, v7)
  io.print(uuid.v3(DNS, "test"), uuid.v5(DNS, "test"), uuid.v3(DNS, "test") == uuid.v3(DNS, "test"))
  io.print(uuid.version(v1), uuid.version(v4), uuid.version(v7), uuid.variant(v4))
  local seen, distinct = {}, 0
  for _ = 1, 50 do local id = uuid.v4() if not seen[id] then distinct = distinct + 1 end seen[id] = true end
  io.print(distinct)
  for _, candidate in ipairs({DNS, "{" .. DNS .. "}", "urn:uuid:" .. DNS, DNS:gsub("-", ""), DNS:upper(),
                              "not-a-uuid", "", DNS .. "-extra", DNS:sub(1, 35), 123, {}}) do
    io.print(tostring(candidate):sub(1, 12), (uuid.validate(candidate)))
  end
  local parsed = uuid.parse(DNS)
  io.print(parsed.version, parsed.variant, parsed.timestamp, #parsed.node, parsed.node == "\0\192\79\212\48\200")
  local parsed7 = uuid.parse(v7)
  io.print(parsed7.version, parsed7.timestamp ~= nil, uuid.parse(v4).timestamp)
  io.print(uuid.format(DNS), uuid.format(DNS, "simple"), uuid.format("{" .. DNS:upper() .. "}", "urn"))
  io.print(uuid.v3("invalid", "test"))
  io.print(uuid.v5(DNS))
  io.print(uuid.version(123))
  io.print(uuid.parse("not-a-uuid"))
  io.print(uuid.format(DNS, "unknown"))
  return 0
end
return { main = main }
"""


def test_uuid_as_go_wippys(make_app):
    import re
    import time
    import uuid
    app = make_app({"src/_index.yaml": one_command_index(["io", "uuid"]), "src/main.lua": UUID_MAIN})
    result = run_wippy(app, "run", "main")
    assert result.code == 0, result
    lines = result.lines
    v1, v4, v7 = lines[0].split("\t")
    for text, version in ((v1, 1), (v4, 4), (v7, 7)):
        assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", text), lines
        assert uuid.UUID(text).version == version and uuid.UUID(text).variant == uuid.RFC_4122
    assert abs(int(v7.replace("-", "")[:12], 16) / 1000 - time.time()) < 60  # milliseconds of now
    assert abs((uuid.UUID(v1).time - 0x01B21DD213814000) / 1e7 - time.time()) < 60  # 100 ns of now
    assert uuid.UUID(v1).node & (1 << 40)  # a random node (multicast bit), not a network card
    dns = uuid.NAMESPACE_DNS
    assert lines[1] == f"{uuid.uuid3(dns, 'test')}\t{uuid.uuid5(dns, 'test')}\ttrue", result
    assert lines[2] == "1\t4\t7\tRFC4122\tnil"
    assert lines[3] == "50"
    validity = [line.split("\t")[1] for line in lines[4:15]]
    assert validity == ["true"] * 5 + ["false"] * 6, lines[4:15]
    seconds = (dns.time - 0x01B21DD213814000) // 10_000_000
    assert lines[15] == f"1\tRFC4122\t{seconds}\t6\ttrue", result
    assert lines[16] == "7\ttrue\tnil"
    assert lines[17] == f"{dns}\t{dns.hex}\turn:uuid:{dns}\tnil"
    assert lines[18:] == ["nil\tinvalid namespace UUID", "nil\tnamespace and name must be strings",
                          "nil\tinput must be a string", "nil\tinvalid UUID format", "nil\tunsupported format"], result
