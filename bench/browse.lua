-- Mixed browse scenario for bench/scale.sh: what a storefront's visitors
-- ask for, weighted, with random products. wrk ... -s browse.lua URL -- FIRST_ID LAST_ID
local first, last = 1, 100
local routes

function init(args)
  first = tonumber(args[1]) or first
  last = tonumber(args[2]) or last
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
  local function id() return math.random(first, last) end
  local markets = { "US", "IN" }
  local function mk() return markets[math.random(2)] end
  -- { weight, path builder }
  routes = {
    { 20, function() return "/api/catalog/products?market=" .. mk() .. "&limit=20" end },
    { 20, function() return "/api/catalog/products/" .. id() .. "?market=" .. mk() end },
    { 10, function() return "/api/catalog/search?q=dress&market=" .. mk() end },
    { 15, function() return "/api/social/trending-products?market=" .. mk() end },
    { 10, function() return "/api/catalog/similar/" .. id() .. "?market=US" end },
    { 10, function() return "/api/ecommerce/markets" end },
    { 10, function() return "/api/catalog/categories" end },
    { 5,  function() return "/api/shipping/methods?market=" .. mk() end },
  }
end

function request()
  local r = math.random(100)
  for _, route in ipairs(routes) do
    r = r - route[1]
    if r <= 0 then return wrk.format("GET", route[2]()) end
  end
  return wrk.format("GET", "/health")
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT rps=%.0f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.1f requests=%d non2xx=%d connect=%d read=%d write=%d timeout=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    summary.requests, e.status, e.connect, e.read, e.write, e.timeout))
end
