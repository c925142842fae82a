return { main = function() return process.inbox():receive() end }
