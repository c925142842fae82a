local io = require("io")
local time = require("time")
-- "napping" tells the test the runtime (and its signal watchers) is running.
return { main = function() io.print("napping") time.sleep("30s") return 0 end }
