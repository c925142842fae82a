local time = require("time")
return { main = function(duration) time.sleep(duration) end }
