local function main()
  return process.inbox():receive()
end
return { main = main }
