return { run = function() error("function failed on purpose") end }
