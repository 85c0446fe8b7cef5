-- Catalog listings that are all different (min_price counts up), so every
-- request misses the cache: with one connection, the server CPU per request
-- is what a listing miss costs. wrk ... -s catalog_listing_unique.lua URL
local categories = { "dresses", "tops", "bottoms", "shoes", "bags", "accessories", "jeans", "sneakers",
                     "kurtas", "maxi-dresses" }
local sorts = { "popular", "newest", "price_asc", "price_desc" }
local sizes = { "", "", "&size=M", "&size=S", "&size=8" }
local n = 0

request = function()
  n = n + 1
  local path = "/api/catalog/products?market=" .. (n % 2 == 0 and "US" or "IN") .. "&category=" ..
    categories[n % 10 + 1] .. "&in_stock=true&sort=" .. sorts[n % 4 + 1] .. sizes[n % 5 + 1] ..
    "&min_price=" .. n .. "&limit=20"
  return wrk.format("GET", path)
end
