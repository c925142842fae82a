return { main = function(i) return i end }
