local http = require("http")

local M = {}

function M.hello()
  local response = http.response()
  response:set_header("X-Handler", "hello")
  response:write("hello, ", "world")
end

function M.user()
  local request = http.request()
  http.response():write_json({ id = request:param("id"), post = request:param("post"),
                               sort = request:query("sort"), all = request:query_params() })
end

function M.echo()
  local request = http.request()
  local response = http.response()
  response:set_header("X-Method", request:method())
  response:set_header("X-Length", tostring(request:content_length()))
  response:set_header("X-Test", request:header("x-test") or "")
  response:set_content_type(request:content_type() or "application/octet-stream")
  response:write(request:body())
end

function M.whoami()
  http.response():write(http.request():remote_addr())
end

function M.raise()
  error("handler failed on purpose")
end

-- An error object whose __tostring itself fails (it used to abort the runtime).
function M.raise_object()
  error(setmetatable({}, {__tostring = function() error("tostring failed") end}))
end

function M.slow()
  require("io").print("slow started") -- the test signals only once a request is in flight
  require("time").sleep("1500ms")
  http.response():write("slow done")
end

function M.big()
  local size = tonumber(http.request():param("size"))
  http.response():write(string.rep("x", size))
end

function M.json()
  local data, err = http.request():body_json()
  local response = http.response()
  if not data then
    response:set_status(http.STATUS.BAD_REQUEST)
    return response:write_json({ error = err })
  end
  response:set_status(201)
  response:write_json({ received = data })
end

return M
