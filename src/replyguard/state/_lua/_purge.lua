-- replyguard: the helpers every write script starts with (prepended by the client).
--
-- A key is two sorted sets holding the same members: KEYS[1] scores each member with
-- its time, KEYS[2] with the time it expires (now + window, or now + ttl), both on
-- the guard's clock. A write first drops the members expired at its `now`.

local function purge(times, expiries, now)
  local gone = redis.call('ZRANGEBYSCORE', expiries, '-inf', now)
  for first = 1, #gone, 1000 do
    local last = math.min(first + 999, #gone)
    redis.call('ZREM', times, unpack(gone, first, last))
  end
  if #gone > 0 then
    redis.call('ZREMRANGEBYSCORE', expiries, '-inf', now)
  end
end

-- Extend (never shorten) the cleanup expiry of both sets; Redis's own clock only
-- reclaims memory here, the windows are judged on the guard's clock.
local function keep(times, expiries, ms)
  if ms <= 0 then
    return
  end
  for _, name in ipairs({times, expiries}) do
    local pttl = redis.call('PTTL', name)
    if pttl == -1 or (pttl >= 0 and pttl < ms) then
      redis.call('PEXPIRE', name, ms)
    end
  end
end
