-- Mixed browse/cart/checkout scenario for bench/scale.sh. Run with as many
-- wrk threads as connections (wrk -tN -cN): each thread then owns one
-- connection and is one signed-in shopper whose requests follow each other,
-- so a checkout can use the session id its start returned.
--   wrk -tN -cN -s mixed.lua URL -- IDS_FILE ITEMS_FILE TOKENS_FILE
-- IDS_FILE: products to browse (sold in both markets); ITEMS_FILE:
-- "product_id variant_id" lines with ample stock to buy; TOKENS_FILE: one
-- customer JWT a line (thread i uses line i).
-- A shopper's cycle of 21 requests: 8 browse, add to cart, 8 browse, add to
-- cart, checkout start, update (address + standard shipping), complete
-- (sandbox Stripe, tok_visa, an Idempotency-Key) — 76 % browse, 10 % cart,
-- 14 % checkout; each thread starts at a random point of the first browse
-- run, so its cart is never empty at checkout start.
local threads = {}
local ids, items = {}, {}
local routes, plan, step, token, session, kind, path, nkey
-- per thread, read back in done() with thread:get (so globals)
failures = 0
last_failure = ""
n_browse, n_cart, n_checkout, n_orders = 0, 0, 0, 0

function setup(thread)
  threads[#threads + 1] = thread
  thread:set("uid", #threads)
end

local ADDRESS = '{"shipping_address":{"name":"Ann Lee","line1":"1 Main St","city":"New York",' ..
  '"state":"NY","postal_code":"10001","country":"US"},"shipping_method":"standard"}'
local PAYMENT = '{"payment":{"gateway":"stripe","token":"tok_visa"}}'

function init(args)
  for line in io.lines(args[1]) do ids[#ids + 1] = tonumber(line) end
  for line in io.lines(args[2]) do
    local p, v = line:match("(%d+) (%d+)")
    items[#items + 1] = { p, v }
  end
  local i = 0
  for line in io.lines(args[3]) do
    i = i + 1
    if i == uid then token = line break end
  end
  math.randomseed(os.time() + uid * 7919 + math.floor(os.clock() * 1e6))
  local function id() return ids[math.random(#ids)] end
  local markets = { "US", "IN" }
  local function mk() return markets[math.random(2)] end
  -- the browse mix of bench/browse.lua: { weight (percent), path builder }
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
  plan = {}
  for _ = 1, 8 do plan[#plan + 1] = "browse" end
  plan[#plan + 1] = "cart"
  for _ = 1, 8 do plan[#plan + 1] = "browse" end
  for _, k in ipairs({ "cart", "start", "update", "complete" }) do plan[#plan + 1] = k end
  step = math.random(8) - 1
  nkey = 0
end

local function browse_path()
  local r = math.random(100)
  for _, route in ipairs(routes) do
    r = r - route[1]
    if r <= 0 then return route[2]() end
  end
  return "/health"
end

function request()
  step = step % #plan + 1
  kind = plan[step]
  if (kind == "update" or kind == "complete") and not session then kind = "browse" end
  local h = { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }
  if kind == "browse" then
    path = browse_path()
    return wrk.format("GET", path)
  elseif kind == "cart" then
    local it = items[math.random(#items)]
    path = "/api/cart/add"
    return wrk.format("POST", path, h, string.format(
      '{"market":"US","product_id":%s,"variant_id":%s,"quantity":1}', it[1], it[2]))
  elseif kind == "start" then
    path = "/api/checkout/start"
    return wrk.format("POST", path, h, '{"market":"US"}')
  elseif kind == "update" then
    path = "/api/checkout/" .. session .. "/update"
    return wrk.format("PUT", path, h, ADDRESS)
  end
  nkey = nkey + 1
  h["Idempotency-Key"] = string.format("bench-%d-%d-%d", uid, os.time(), nkey)
  path = "/api/checkout/" .. session .. "/complete"
  return wrk.format("POST", path, h, PAYMENT)
end

function response(status, headers, body)
  if status >= 300 then
    failures = failures + 1
    last_failure = status .. " " .. kind .. " " .. path .. " " .. (body or ""):sub(1, 120)
    if kind ~= "browse" and kind ~= "cart" then session = nil end
    return
  end
  if kind == "browse" then
    n_browse = n_browse + 1
  elseif kind == "cart" then
    n_cart = n_cart + 1
  else
    n_checkout = n_checkout + 1
    if kind == "start" then session = body:match('"id":(%d+)') end
    if kind == "complete" then
      session = nil
      n_orders = n_orders + 1
    end
  end
end

function done(summary, latency, requests)
  local f, nb, nc, nk, no, example = 0, 0, 0, 0, 0, nil
  for _, t in ipairs(threads) do
    f = f + (t:get("failures") or 0)
    if (t:get("failures") or 0) > 0 and not example then example = t:get("last_failure") end
    nb = nb + (t:get("n_browse") or 0)
    nc = nc + (t:get("n_cart") or 0)
    nk = nk + (t:get("n_checkout") or 0)
    no = no + (t:get("n_orders") or 0)
  end
  if f > 0 then io.write(string.format("FAILURES %d e.g. %s\n", f, example)) end
  io.write(string.format("MIX browse=%d cart=%d checkout=%d orders=%d\n", nb, nc, nk, no))
  local e = summary.errors
  io.write(string.format(
    "RESULT rps=%.0f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.1f requests=%d non2xx=%d connect=%d read=%d write=%d timeout=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    summary.requests, e.status, e.connect, e.read, e.write, e.timeout))
end
