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
    assert lines[7:12] == ['nil "illegal base64 data at input byte 0"', 'nil "illegal base64 data at input byte 3"',
                           'nil "illegal base64 data at input byte 4"', 'nil "illegal base64 data at input byte 1"',
                           'nil "string expected"'], result
    assert lines[12] == f"{hashlib.md5(b'hello').hexdigest()}\t{hashlib.sha1(b'hello').hexdigest()}\tnil", result
    assert lines[13] == f"{hashlib.sha256(b'hello').hexdigest()}\t{hashlib.sha512(b'').hexdigest()}\tnil"
    assert lines[14] == f"32\t{hexmac('sha256', b'data', b'key')}\tnil"
    assert lines[15] == (f"{hexmac('sha512', b'data', b'key')}\t{hexmac('sha1', b'', b'')}\t"
                         f"{hexmac('md5', b'data', b'key')}\tnil")
    chained = hmac.new(hmac.new(b"key", b"data", "sha256").digest(), b"step", "sha256").hexdigest()
    # FNV-1 (not 1a), as Go's fnv.New32/New64 that Go Wippy calls; fnv64 is a float there too
    assert lines[16] == f"{chained}\t3069866343\t2166136261\t8883723591023973376", result
    assert lines[17:] == ['nil "data must be a string"', 'nil "secret must be a string"'], result
