-- Mixed browse/cart/checkout scenario for bench/scale.sh.
--   wrk -tT -cN -s mixed.lua URL -- IDS_FILE ITEMS_FILE TOKENS_FILE
-- IDS_FILE: products to browse (sold in both markets); ITEMS_FILE:
-- "product_id variant_id" lines with ample stock to buy; TOKENS_FILE:
-- "sub jwt" lines, one signed-in shopper each (wrk thread k of T takes every
-- T-th shopper).
--
-- Each request is, at random: with 10 % an add to cart for an idle shopper;
-- with 15 % the next checkout step of a shopper whose previous step
-- succeeded (start → update with address and standard shipping → complete
-- with sandbox Stripe tok_visa and an Idempotency-Key); otherwise an
-- anonymous browse request (the mix of bench/browse.lua). wrk gives a
-- response no handle on its request, so a shopper's progress is read back
-- from the answer itself (its "user_id"); a shopper is in one step at a
-- time. The counts of each kind and of orders placed are printed (MIX).
local threads = {}
local ids, items = {}, {}
local routes, tokens, idle, queue, stage, session, nkey
failures = 0
last_failure = ""
n_browse, n_cart, n_checkout, n_orders = 0, 0, 0, 0

function setup(thread)
  threads[#threads + 1] = thread
  thread:set("tid", #threads)
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
  tokens, idle, queue, stage, session = {}, {}, {}, {}, {}
  local nthreads = tonumber(args[4]) or 1
  local i = 0
  for line in io.lines(args[3]) do
    if i % nthreads == tid - 1 then
      local sub, jwt = line:match("(%S+) (%S+)")
      tokens[sub] = jwt
      idle[#idle + 1] = sub
    end
    i = i + 1
  end
  nkey = 0
  math.randomseed(os.time() + tid * 7919 + math.floor(os.clock() * 1e6))
  local function id() return ids[math.random(#ids)] end
  local markets = { "US", "IN" }
  local function mk() return markets[math.random(2)] end
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

local function browse()
  local r = math.random(100)
  for _, route in ipairs(routes) do
    r = r - route[1]
    if r <= 0 then return wrk.format("GET", route[2]()) end
  end
  return wrk.format("GET", "/health")
end

local function take(list)
  local k = math.random(#list)
  local v = list[k]
  list[k] = list[#list]
  list[#list] = nil
  return v
end

function request()
  local r = math.random(100)
  if r <= 10 and #idle > 0 then
    local u = take(idle)
    stage[u] = "cart"
    local it = items[math.random(#items)]
    return wrk.format("POST", "/api/cart/add",
      { ["Authorization"] = "Bearer " .. tokens[u], ["Content-Type"] = "application/json" },
      string.format('{"market":"US","product_id":%s,"variant_id":%s,"quantity":1}', it[1], it[2]))
  end
  if r <= 25 and #queue > 0 then
    local u = table.remove(queue, 1)
    local h = { ["Authorization"] = "Bearer " .. tokens[u], ["Content-Type"] = "application/json" }
    local st = stage[u]
    if st == "carted" then
      stage[u] = "start"
      return wrk.format("POST", "/api/checkout/start", h, '{"market":"US"}')
    elseif st == "started" then
      stage[u] = "update"
      return wrk.format("PUT", "/api/checkout/" .. session[u] .. "/update", h, ADDRESS)
    end
    stage[u] = "complete"
    nkey = nkey + 1
    h["Idempotency-Key"] = string.format("bench-%d-%d-%d", tid, os.time(), nkey)
    return wrk.format("POST", "/api/checkout/" .. session[u] .. "/complete", h, PAYMENT)
  end
  return browse()
end

local next_stage = { cart = "carted", start = "started", update = "updated" }

function response(status, headers, body)
  local u = body and body:match('"user_id":"([^"]+)"')
  if status >= 300 then
    failures = failures + 1
    last_failure = status .. " " .. (body or ""):sub(1, 160)
    return
  end
  if not u or not stage[u] or not tokens[u] then
    n_browse = n_browse + 1
    return
  end
  local st = stage[u]
  if st == "cart" then
    n_cart = n_cart + 1
  else
    n_checkout = n_checkout + 1
  end
  if st == "complete" then
    n_orders = n_orders + 1
    stage[u] = nil
    session[u] = nil
    idle[#idle + 1] = u
    return
  end
  if st == "start" then session[u] = body:match('^{"id":(%d+)') end
  stage[u] = next_stage[st]
  queue[#queue + 1] = u
end

function done(summary, latency, requests)
  local f, nb, nc, nk, no, example = 0, 0, 0, 0, 0, nil
  for _, t in ipairs(threads) do
    local tf = t:get("failures") or 0
    f = f + tf
    if tf > 0 and not example then example = t:get("last_failure") end
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
