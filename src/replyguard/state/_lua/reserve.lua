-- replyguard: the check-and-record of a limit, in one atomic step.
--
-- KEYS[1]  member -> time; KEYS[2]  member -> expiry (see _purge.lua)
-- ARGV[1]  the member to record
-- ARGV[2]  now, the guard's clock (POSIX seconds)
-- ARGV[3]  now - window: the window is (ARGV[3], ARGV[2]]
-- ARGV[4]  the limit
-- ARGV[5]  now + window: when the member expires
-- ARGV[6]  the cleanup expiry of the keys, in milliseconds (0: none)
--
-- Returns {allowed (0 or 1), count seen before adding}. The client formats every
-- time: Lua would print numbers with 14 significant digits and move the bounds.
local times, expiries = KEYS[1], KEYS[2]
purge(times, expiries, ARGV[2])
local count = redis.call('ZCOUNT', times, '(' .. ARGV[3], ARGV[2])
if count >= tonumber(ARGV[4]) then
  return {0, count}
end
redis.call('ZADD', times, ARGV[2], ARGV[1])
redis.call('ZADD', expiries, ARGV[5], ARGV[1])
keep(times, expiries, tonumber(ARGV[6]))
return {1, count}
