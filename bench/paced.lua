-- Paces wrk: each connection waits DELAY_MS between requests, so the load is a fixed rate
-- (connections × 1000 / DELAY_MS per second) below what the server can take, as a busy
-- portal sees it, instead of as many requests as the server can answer. Used by
-- bench/workspace_save.py to compare the portal's latency alone and while people save.
local delay_ms = tonumber(os.getenv("DELAY_MS") or "10")

function delay()
  return delay_ms
end
