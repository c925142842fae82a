return { main = function() error("something broke") end }
