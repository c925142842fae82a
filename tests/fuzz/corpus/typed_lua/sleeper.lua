local time = require("time")
return { main = function(seconds) time.sleep(seconds) end }
