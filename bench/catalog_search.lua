-- Searches over varied words and prefixes, markets and filters (mostly
-- cache misses). wrk ... -s catalog_search.lua URL
local words = { "linen", "dress", "summ", "kurta", "sneak", "denim", "satin", "tote", "organic cotton",
                "festive", "wrap", "boot", "jeans", "silk scarf", "block print", "high", "relaxed tee",
                "zara", "nike run", "fabindia", "embroid", "crop", "oversized shirt", "leather" }
local extra = { "", "", "", "&in_stock=true", "&sort=price_asc", "&category=tops", "&brand=zara" }
local markets = { "US", "IN" }

function init(args)
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
end

local function pick(t) return t[math.random(#t)] end

request = function()
  local q = pick(words):gsub(" ", "%%20")
  return wrk.format("GET", "/api/catalog/search?market=" .. pick(markets) .. "&q=" .. q .. pick(extra))
end
