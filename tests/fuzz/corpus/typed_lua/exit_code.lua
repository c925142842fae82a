return { main = function(code) if code == "nil" then return nil end return tonumber(code) end }
