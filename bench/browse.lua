-- Mixed browse scenario for bench/scale.sh: what a storefront's visitors
-- ask for, weighted, with random products sold in both markets, so every
-- answer should be a 200. wrk ... -s browse.lua URL -- IDS_FILE
local ids = {}
local routes
local threads = {}
-- per thread (read back in done() with thread:get, so they are globals)
failures = 0
last_failure = ""
current_path = ""

function setup(thread)
  threads[#threads + 1] = thread
end

function init(args)
  for line in io.lines(args[1]) do ids[#ids + 1] = tonumber(line) end
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
  local function id() return ids[math.random(#ids)] end
  local markets = { "US", "IN" }
  local function mk() return markets[math.random(2)] end
  -- { weight (percent), path builder }
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
    if r <= 0 then
      current_path = route[2]()
      return wrk.format("GET", current_path)
    end
  end
  return wrk.format("GET", "/health")
end

-- one request in flight per connection and one connection at a time per
-- callback, so the latest path built is close enough to name a failure
function response(status, headers, body)
  if status >= 300 then
    failures = failures + 1
    last_failure = status .. " " .. current_path
  end
end

function done(summary, latency, requests)
  for _, t in ipairs(threads) do
    local n = t:get("failures")
    if n and n > 0 then
      io.write(string.format("FAILURES %d e.g. %s\n", n, t:get("last_failure")))
    end
  end
  local e = summary.errors
  io.write(string.format(
    "RESULT rps=%.0f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.1f requests=%d non2xx=%d connect=%d read=%d write=%d timeout=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    summary.requests, e.status, e.connect, e.read, e.write, e.timeout))
end
