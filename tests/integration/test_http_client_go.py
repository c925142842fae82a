"""http_client details as Go Wippy has them: encode_uri and decode_uri are
Go's QueryEscape and QueryUnescape, a query option is set into the URL's
own query (written again sorted), forms are encoded the same way, and a
batch whose form is wrong is refused whole."""
import pytest

from conftest import one_command_index, run_wippy
from peers import IpService

MAIN = r"""local json = require("json")
return {main = function(url)
  io.print(http_client.encode_uri("a b&c=d/é~*'()!"), http_client.decode_uri("a+b%26c%2B"))
  io.print(http_client.decode_uri("%zz"))
  io.print(http_client.decode_uri("abc%4"))
  local r = http_client.get(url .. "/p?z=1&b=old&x=%20y#frag", {query = {b = "new value", a = "&="}})
  io.print(json.decode(r.body).path)
  r = http_client.post(url .. "/form", {form = {b = "2 3", a = "1"}})
  io.print(json.decode(r.body).body)
  for _, batch in ipairs({{}, {"GET"}, {{1, url}}, {{"GET", 7}}}) do
    io.print(http_client.request_batch(batch))
  end
  local responses, errors = http_client.request_batch({{"GET", url .. "/one"}, {"GET", url .. "/two"}})
  io.print(#responses, errors)
end}
"""


@pytest.fixture
def target():
    service = IpService()
    yield service
    service.close()


def test_http_client_query_form_uri_and_batch_as_go(make_app, target):
    app = make_app({"src/_index.yaml": one_command_index(["io", "http_client", "json"]), "src/main.lua": MAIN})
    result = run_wippy(app, "run", "main", target.url.rstrip("/"))
    assert result.code == 0, result
    assert result.lines == [
        "a+b%26c%3Dd%2F%C3%A9~%2A%27%28%29%21\ta b&c+",
        'nil\tinvalid URL escape "%zz"',
        'nil\tinvalid URL escape "%4"',
        "/p?a=%26%3D&b=new+value&x=+y&z=1",
        "a=1&b=2+3",
        "nil\trequests table cannot be empty",
        "nil\teach request must be a table",
        "nil\tmethod must be a string",
        "nil\tURL must be a string",
        "2\tnil",
    ], result


@pytest.mark.parametrize("threads", ["1", "3"])
def test_a_connection_kept_for_the_next_request_does_not_hide_a_deadlock(make_app, target, threads):
    """The client keeps a finished connection's socket watched for the next
    request; a process blocked for good after its requests is still a
    deadlock, told at once, while the server keeps the connection open."""
    main = """return {main = function(url)
  for _ = 1, 3 do assert(http_client.get(url)) end
  io.print("fetched")
  channel.new():receive()
end}
"""
    app = make_app({"src/_index.yaml": one_command_index(["io", "http_client", "channel"]), "src/main.lua": main})
    result = run_wippy(app, "--threads", threads, "run", "main", target.url, timeout=30)
    assert result.code == 1, result
    assert result.lines == ["fetched"], result
    assert result.err.strip() == "wippy: every process is blocked and nothing can wake them (deadlock)", result
