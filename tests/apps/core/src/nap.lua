local time = require("time")
return { main = function() time.sleep(30) return 0 end }
