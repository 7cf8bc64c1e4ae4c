-- replyguard: take a member back (the send failed).
--
-- KEYS[1]  member -> time; KEYS[2]  member -> expiry (see _purge.lua)
-- ARGV[1]  the member
-- Returns 1 when the member was there, else 0.
local removed = redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return removed
