-- Filtered catalog listings with varied filters, so most requests miss the
-- cache and reach the database. wrk ... -s catalog_listing.lua URL
local categories = { "dresses", "tops", "bottoms", "shoes", "bags", "accessories", "jeans", "sneakers",
                     "kurtas", "maxi-dresses" }
local sorts = { "popular", "newest", "price_asc", "price_desc" }
local sizes = { "", "", "&size=M", "&size=S", "&size=8" }
local prices = { "", "&min_price=2000", "&max_price=6000", "&min_price=3000&max_price=9000" }
local markets = { "US", "IN" }

function init(args)
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
end

local function pick(t) return t[math.random(#t)] end

request = function()
  local path = "/api/catalog/products?market=" .. pick(markets) .. "&category=" .. pick(categories) ..
    "&in_stock=true&sort=" .. pick(sorts) .. pick(sizes) .. pick(prices) .. "&limit=20"
  return wrk.format("GET", path)
end
