-- replyguard: record a member without a limit.
--
-- KEYS[1]  member -> time; KEYS[2]  member -> expiry (see _purge.lua)
-- ARGV[1]  the member to record (recorded again, it takes the new time)
-- ARGV[2]  now, the guard's clock (POSIX seconds)
-- ARGV[3]  now + ttl: when the member expires
-- ARGV[4]  the cleanup expiry of the keys, in milliseconds (0: none)
local times, expiries = KEYS[1], KEYS[2]
purge(times, expiries, ARGV[2])
redis.call('ZADD', times, ARGV[2], ARGV[1])
redis.call('ZADD', expiries, ARGV[3], ARGV[1])
keep(times, expiries, tonumber(ARGV[4]))
return 1
