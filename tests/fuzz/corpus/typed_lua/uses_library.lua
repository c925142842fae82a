local io = require("io")
local helpers = require("helpers")
return { main = function() io.print(helpers.greet("library")) return 0 end }
