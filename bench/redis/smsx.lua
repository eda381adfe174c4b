#!lua name=smsx
-- The smsx workload on Redis 7 functions: the same logical operations smsxd does for
-- the load generator's mix (docs/benchmarks.md, "Redis comparison"), each one atomic.
--
-- Keys (standalone Redis; keys are computed inside the functions, so this is not
-- cluster-safe):
--   a:ACCT        hash  av, held                      balances in minor units
--   price:SVC:CC  zset  pool -> price                 priced pools, cheapest first
--   payout:SVC:CC hash  pool -> payout
--   free:CC:POOL  list  free numbers, least recently used at the head
--   n:NUMBER      hash  cc, op, pool, owner, order    inventory (order 0: free)
--   used:NUMBER   set   services that got an SMS on this number
--   o:ID          hash  the order; osms:ID list of its SMS (JSON)
--   exp           zset  active order -> expires_at (ms), for the expiry sweep
--   ref:REF       string the deposit a processor reference credited
--   req:GW:ID     string the reply of a mutating request (idempotency), kept 1 hour
--   earn:OWNER    hash  supplier payouts
-- Replies are arrays; refusals are error replies "CODE message", as smsxd's codes.

local TTL_MS = 20 * 60 * 1000
local RETENTION_S = 3600
local SCAN_MAX = 8  -- free numbers looked at per pool for one not used for the service

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- Idempotency: a remembered reply, or nil.
local function recall(gw, id)
  local r = redis.call('GET', 'req:' .. gw .. ':' .. id)
  if r then return cjson.decode(r) end
  return nil
end

local function remember(gw, id, reply)
  redis.call('SET', 'req:' .. gw .. ':' .. id, cjson.encode(reply), 'EX', RETENTION_S)
  return reply
end

local function fail(code, message)
  return redis.error_reply(code .. ' ' .. message)
end

local function release_number(o, number)
  redis.call('HSET', 'n:' .. number, 'order', 0)
  redis.call('RPUSH', 'free:' .. o.cc .. ':' .. o.pool, number)
end

local function load_order(id)
  local f = redis.call('HGETALL', 'o:' .. id)
  if #f == 0 then return nil end
  local o = {}
  for i = 1, #f, 2 do o[f[i]] = f[i + 1] end
  o.price = tonumber(o.price)
  return o
end

local function close_order(id, state)
  redis.call('HSET', 'o:' .. id, 'state', state)
  redis.call('ZREM', 'exp', id)
  redis.call('EXPIRE', 'o:' .. id, RETENTION_S)
  redis.call('EXPIRE', 'osms:' .. id, RETENTION_S)
end

-- deposit GW ID ACCT AMOUNT REF -> {deposit, available}
local function deposit(keys, args)
  local gw, id, acct, amount, ref = args[1], args[2], args[3], tonumber(args[4]), args[5]
  local r = recall(gw, id)
  if r then return r end
  if redis.call('EXISTS', 'ref:' .. ref) == 1 then return fail('DUPLICATE_REF', 'ref used') end
  local dep = redis.call('INCR', 'seq:deposit')
  redis.call('SET', 'ref:' .. ref, dep)
  redis.call('HSET', 'd:' .. dep, 'account', acct, 'amount', amount, 'ref', ref, 'at', now_ms())
  local av = redis.call('HINCRBY', 'a:' .. acct, 'av', amount)
  redis.call('HSETNX', 'a:' .. acct, 'held', 0)
  return remember(gw, id, {dep, av})
end

-- place GW ID ACCT SVC CC -> {order, number, price, expires_at}
local function place(keys, args)
  local gw, id, acct, svc, cc = args[1], args[2], args[3], args[4], args[5]
  local r = recall(gw, id)
  if r then return r end
  local pools = redis.call('ZRANGE', 'price:' .. svc .. ':' .. cc, 0, -1, 'WITHSCORES')
  if #pools == 0 then return fail('NO_PRICE', 'nothing priced') end
  for i = 1, #pools, 2 do
    local pool, price = pools[i], tonumber(pools[i + 1])
    local list = 'free:' .. cc .. ':' .. pool
    for _ = 1, SCAN_MAX do
      local number = redis.call('LPOP', list)
      if not number then break end
      if redis.call('SISMEMBER', 'used:' .. number, svc) == 0 then
        local av = tonumber(redis.call('HGET', 'a:' .. acct, 'av') or '0')
        if av < price then
          redis.call('LPUSH', list, number)
          return fail('NO_BALANCE', 'available balance too low')
        end
        redis.call('HINCRBY', 'a:' .. acct, 'av', -price)
        redis.call('HINCRBY', 'a:' .. acct, 'held', price)
        local oid = redis.call('INCR', 'seq:order')
        local now = now_ms()
        local payout = redis.call('HGET', 'payout:' .. svc .. ':' .. cc, pool)
        redis.call('HSET', 'o:' .. oid, 'account', acct, 'number', number, 'svc', svc, 'cc', cc,
                   'pool', pool, 'price', price, 'payout', payout, 'state', 'waiting',
                   'created', now, 'expires', now + TTL_MS)
        redis.call('HSET', 'n:' .. number, 'order', oid)
        redis.call('ZADD', 'exp', now + TTL_MS, oid)
        return remember(gw, id, {oid, number, price, now + TTL_MS})
      end
      redis.call('RPUSH', list, number)  -- used for this service: to the back
    end
  end
  return fail('NO_NUMBERS', 'no free number')
end

-- cancel GW ID ORDER -> {refunded}
local function cancel(keys, args)
  local gw, id, oid = args[1], args[2], args[3]
  local r = recall(gw, id)
  if r then return r end
  local o = load_order(oid)
  if not o then return fail('ORDER_NOT_FOUND', 'no such order') end
  if o.state == 'received' or o.state == 'retry' then return fail('CODE_RECEIVED', 'code') end
  if o.state ~= 'waiting' then return fail('ORDER_CLOSED', 'closed') end
  redis.call('HINCRBY', 'a:' .. o.account, 'av', o.price)
  redis.call('HINCRBY', 'a:' .. o.account, 'held', -o.price)
  close_order(oid, 'cancelled')
  release_number(o, o.number)
  return remember(gw, id, {o.price})
end

local function capture(oid, o)
  redis.call('HINCRBY', 'a:' .. o.account, 'held', -o.price)
  local owner = redis.call('HGET', 'n:' .. o.number, 'owner')
  redis.call('HINCRBY', 'earn:' .. owner, 'payout', tonumber(o.payout))
  close_order(oid, 'finished')
  release_number(o, o.number)
end

-- finish GW ID ORDER -> {charged}
local function finish(keys, args)
  local gw, id, oid = args[1], args[2], args[3]
  local r = recall(gw, id)
  if r then return r end
  local o = load_order(oid)
  if not o then return fail('ORDER_NOT_FOUND', 'no such order') end
  if o.state == 'waiting' then return fail('NO_SMS_YET', 'no sms yet') end
  if o.state ~= 'received' and o.state ~= 'retry' then return fail('ORDER_CLOSED', 'closed') end
  capture(oid, o)
  return remember(gw, id, {o.price})
end

-- The first run of 4 to 8 digits, single '-' or ' ' between digit groups dropped.
local function extract_code(text)
  local t = text
  for _ = 1, 2 do t = string.gsub(t, '(%d)[- ](%d)', '%1%2') end
  for run in string.gmatch(t, '%d+') do
    if #run >= 4 and #run <= 8 then return run end
  end
  return false
end

-- sms GW ID NUMBER TEXT SENDER -> {order or false, code or false}
local function sms(keys, args)
  local gw, id, number, text, sender = args[1], args[2], args[3], args[4], args[5]
  local r = recall(gw, id)
  if r then return r end
  local n = redis.call('HMGET', 'n:' .. number, 'owner', 'order')
  if not n[1] or n[1] ~= gw then return fail('NUMBER_NOT_FOUND', 'no such number') end
  local code = extract_code(text)
  local oid = tonumber(n[2] or '0')
  if oid == 0 then return remember(gw, id, {false, code}) end
  local now = now_ms()
  redis.call('RPUSH', 'osms:' .. oid, cjson.encode({at = now, sender = sender, text = text,
                                                     code = code}))
  redis.call('HSET', 'o:' .. oid, 'state', 'received')
  redis.call('SADD', 'used:' .. number, redis.call('HGET', 'o:' .. oid, 'svc'))
  return remember(gw, id, {oid, code})
end

-- balance ACCT -> {available, held}
local function balance(keys, args)
  local b = redis.call('HMGET', 'a:' .. args[1], 'av', 'held')
  if not b[1] then return fail('NO_ACCOUNT', 'no such account') end
  return {tonumber(b[1]), tonumber(b[2])}
end

-- get ORDER -> {order, account, state, number, service, country, pool, price, created,
--               expires, sms...}
local function get(keys, args)
  local o = load_order(args[1])
  if not o then return fail('ORDER_NOT_FOUND', 'no such order') end
  local out = {tonumber(args[1]), tonumber(o.account), o.state, o.number, o.svc, o.cc, o.pool,
               o.price, tonumber(o.created), tonumber(o.expires)}
  for _, s in ipairs(redis.call('LRANGE', 'osms:' .. args[1], 0, -1)) do out[#out + 1] = s end
  return out
end

-- sweep MAX -> expired or auto-finished orders due now, at most MAX
local function sweep(keys, args)
  local due = redis.call('ZRANGEBYSCORE', 'exp', '-inf', now_ms(), 'LIMIT', 0, tonumber(args[1]))
  for _, oid in ipairs(due) do
    local o = load_order(oid)
    if o.state == 'waiting' then
      redis.call('HINCRBY', 'a:' .. o.account, 'av', o.price)
      redis.call('HINCRBY', 'a:' .. o.account, 'held', -o.price)
      close_order(oid, 'expired')
      release_number(o, o.number)
    else
      capture(oid, o)
    end
  end
  return #due
end

redis.register_function('deposit', deposit)
redis.register_function('place', place)
redis.register_function('cancel', cancel)
redis.register_function('finish', finish)
redis.register_function('sms', sms)
redis.register_function{function_name = 'balance', callback = balance, flags = {'no-writes'}}
redis.register_function{function_name = 'get', callback = get, flags = {'no-writes'}}
redis.register_function('sweep', sweep)
