local http = require("http")
local SMALL = '{"ok":true,"bench":"wippy"}\n'
local BIG = string.rep("0123456789abcdef", 65536) -- 1 MiB
local function small() http.response():write(SMALL) end
local function big() http.response():write(BIG) end
return { small = small, big = big }
