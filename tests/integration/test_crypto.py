"""The crypto module as Go Wippy's (OpenSSL under it): random, HMAC,
AES-GCM and ChaCha20-Poly1305, PBKDF2 (off the loop), constant-time
comparison, JWT with HS256/384/512 and RS256."""
import hashlib
import hmac
import subprocess

from conftest import one_command_index, run_wippy

MAIN = r"""local io = require("io")
local crypto = require("crypto")
return {main = function(private_pem, public_pem, certificate_pem)
  local r = crypto.random
  local a, b = r.bytes(16), r.bytes(16)
  io.print(#a, a ~= b, #r.bytes(1048576), tostring(select(2, r.bytes(1048577))), tostring(select(2, r.bytes(0))))
  io.print(#r.string(32), r.string(16, "ab"):match("^[ab]+$") ~= nil, tostring(select(2, r.string(10, ""))))
  io.print(#r.uuid(), r.uuid():sub(15, 15))
  io.print(crypto.hmac.sha256("secret", "data"), #crypto.hmac.sha512("k", ""), tostring(select(2, crypto.hmac.sha256("", "d"))))
  for _, key in ipairs({string.rep("k", 16), string.rep("k", 24), string.rep("k", 32)}) do
    local sealed = crypto.encrypt.aes("hello", key, "aad")
    io.print(#sealed, crypto.decrypt.aes(sealed, key, "aad"), tostring(select(2, crypto.decrypt.aes(sealed, key, "other"))))
  end
  local key = string.rep("c", 32)
  local sealed = crypto.encrypt.chacha20("hello", key)
  io.print(crypto.decrypt.chacha20(sealed, key), tostring(select(2, crypto.decrypt.chacha20(sealed, string.rep("d", 32)))))
  io.print(tostring(select(2, crypto.encrypt.aes("x", "short"))), select(2, crypto.encrypt.aes("x", "short")):kind(),
           tostring(select(2, crypto.decrypt.aes("abc", string.rep("k", 16)))))
  local derived = crypto.pbkdf2("password", "salt", 1000, 32)
  io.print(#derived, derived == crypto.pbkdf2("password", "salt", 1000, 32), #crypto.pbkdf2("p", "s", 10, 64, "sha512"))
  io.print(tostring(select(2, crypto.pbkdf2("p", "s", 1, 8, "md5"))), tostring(select(2, crypto.pbkdf2("p", "s", 20000000, 8))))
  io.print(crypto.constant_time_compare("hello", "hello"), crypto.constant_time_compare("hello", "hell"))
  local jwt = crypto.jwt
  local token = jwt.encode({sub = "u1", name = "Ann", exp = 4102444800, _header = {kid = "k1"}}, "secret")
  local claims = jwt.verify(token, "secret")
  io.print(claims.sub, claims.name, token:find(".", 1, true) ~= nil)
  io.print(tostring(select(2, jwt.verify(token, "wrong"))), tostring(select(2, jwt.verify("invalid.token.here", "secret"))))
  local hs384 = jwt.encode({exp = 4102444800}, "secret", "HS384")
  io.print(jwt.verify(hs384, "secret", "HS384") ~= nil, tostring(select(2, jwt.verify(hs384, "secret", "HS256"))))
  local no_exp = jwt.encode({sub = "x"}, "secret")
  io.print(tostring(select(2, jwt.verify(no_exp, "secret"))), jwt.verify(no_exp, "secret", "HS256", false).sub)
  io.print(tostring(select(2, jwt.verify(jwt.encode({exp = 1}, "secret"), "secret"))))
  local rs = jwt.encode({sub = "rsa", exp = 4102444800}, private_pem, "RS256")
  io.print(jwt.verify(rs, public_pem, "RS256").sub, jwt.verify(rs, certificate_pem, "RS256").sub,
           tostring(select(2, jwt.verify(rs, "not a key", "RS256"))))
  io.print(pcall(function() crypto.random.bytes = nil end))
  io.print(token)
end}
"""


def test_crypto_as_go_wippy(make_app, tmp_path):
    private = tmp_path / "private.pem"
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", str(private)],
                   check=True, capture_output=True)
    public = subprocess.run(["openssl", "pkey", "-in", str(private), "-pubout"], check=True, capture_output=True,
                            text=True).stdout
    certificate = subprocess.run(["openssl", "req", "-new", "-x509", "-key", str(private), "-subj", "/CN=test",
                                  "-days", "1"], check=True, capture_output=True, text=True).stdout
    app = make_app({"src/_index.yaml": one_command_index(["io", "crypto"]), "src/main.lua": MAIN})
    result = run_wippy(app, "run", "main", private.read_text(), public, certificate)
    assert result.code == 0, result
    expected_hmac = hmac.new(b"secret", b"data", hashlib.sha256).hexdigest()
    token = result.lines[-1]
    assert result.lines[:-1] == [
        "16\ttrue\t1048576\tlength exceeds maximum allowed size (1MB)\tlength must be a positive integer",
        "32\ttrue\tcharset cannot be empty",
        "36\t4",
        f"{expected_hmac}\t128\tkey cannot be empty",
        "33\thello\tcipher: message authentication failed",
        "33\thello\tcipher: message authentication failed",
        "33\thello\tcipher: message authentication failed",
        "hello\tchacha20poly1305: message authentication failed",
        "key must be 16, 24, or 32 bytes\tInvalid\tencrypted data too short",
        "32\ttrue\t64",
        "unsupported hash function: md5\titerations exceeds maximum (10000000)",
        "true\tfalse",
        "u1\tAnn\ttrue",
        "token signature is invalid: signature is invalid\ttoken is malformed: could not JSON decode header",
        "true\ttoken is unverifiable: signing method (alg) is unavailable or not the expected one",
        "token has invalid claims: token is missing required claim: exp claim is required\tx",
        "token has invalid claims: token is expired",
        "rsa\trsa\ttoken is unverifiable: error while executing keyfunc: invalid RSA public key",
        "false\tsrc/main.lua:36: attempt to modify a read-only table",
    ], result
    # a real HS256 JWT: Python's own HMAC and base64 read it
    import base64
    import json
    header, claims, signature = token.split(".")
    pad = lambda text: text + "=" * (-len(text) % 4)
    assert json.loads(base64.urlsafe_b64decode(pad(header))) == {"alg": "HS256", "typ": "JWT", "kid": "k1"}
    assert json.loads(base64.urlsafe_b64decode(pad(claims))) == {"sub": "u1", "name": "Ann", "exp": 4102444800}
    mac = hmac.new(b"secret", f"{header}.{claims}".encode(), hashlib.sha256).digest()
    assert base64.urlsafe_b64decode(pad(signature)) == mac
