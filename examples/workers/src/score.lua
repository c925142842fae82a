-- A word's score: the sum of its letters' positions in the alphabet.
local function score(word)
  local total = 0
  for letter in word:lower():gmatch("%a") do
    total = total + (letter:byte() - 96)
  end
  return total
end
return { score = score }
