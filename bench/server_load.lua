-- wrk script for scripts/server-load.sh: every request approves another
-- pending action, POST /api/v1/actions/{id}/approve, with an API token.
--
--   ACTIONCENTER_LOAD_TOKEN=act_... wrk -t2 -c8 -d5s -s bench/server_load.lua \
--       http://127.0.0.1:PORT -- IDS_FILE THREADS
--
-- IDS_FILE holds one pending id a line; wrk thread t of THREADS takes
-- lines t, t + THREADS, ... so no id is approved twice. Only 2xx answers
-- count as approvals; the others are counted by status. A thread that
-- runs out of ids starts its list again (those approvals get 409) and
-- says so in `exhausted`: the pool was too small for the run.
--
-- At the end one line is printed for the script to read:
--   LOADRESULT {"ok":N,"non_2xx":N,"statuses":{"409":N},"exhausted":N,
--               "requests":N,"errors":N,"seconds":S,"p50_ms":X,"p99_ms":Y}
-- The percentiles are wrk's own, over every request that completed.

local threads = {}
local count = 0

function setup(thread)
  thread:set("tid", count)
  count = count + 1
  table.insert(threads, thread)
end

function init(args)
  local path, nthreads = args[1], tonumber(args[2])
  local token = os.getenv("ACTIONCENTER_LOAD_TOKEN")
  if path == nil or nthreads == nil or token == nil or token == "" then
    error("usage: ACTIONCENTER_LOAD_TOKEN=... wrk ... -s server_load.lua URL -- IDS_FILE THREADS")
  end
  ids = {}
  local i = 0
  for line in io.lines(path) do
    if line ~= "" then
      if i % nthreads == tid then
        ids[#ids + 1] = line
      end
      i = i + 1
    end
  end
  if #ids == 0 then
    error("no ids for thread " .. tid .. " in " .. path)
  end
  headers = {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json",
  }
  nxt, ok, bad, exhausted = 1, 0, 0, 0
  statuses = {}
end

function request()
  local id = ids[nxt]
  if id == nil then
    exhausted = exhausted + 1
    id = ids[((nxt - 1) % #ids) + 1]
  end
  nxt = nxt + 1
  return wrk.format("POST", "/api/v1/actions/" .. id .. "/approve", headers, "{}")
end

function response(status, headers, body)
  if status >= 200 and status < 300 then
    ok = ok + 1
  else
    bad = bad + 1
    local key = tostring(status)
    statuses[key] = (statuses[key] or 0) + 1
  end
end

function done(summary, latency, requests)
  local all_ok, all_bad, all_exhausted = 0, 0, 0
  local by_status = {}
  for _, t in ipairs(threads) do
    all_ok = all_ok + t:get("ok")
    all_bad = all_bad + t:get("bad")
    all_exhausted = all_exhausted + t:get("exhausted")
    for k, v in pairs(t:get("statuses")) do
      by_status[k] = (by_status[k] or 0) + v
    end
  end
  local parts = {}
  for k, v in pairs(by_status) do
    parts[#parts + 1] = string.format('"%s":%d', k, v)
  end
  local e = summary.errors
  io.write(string.format(
    'LOADRESULT {"ok":%d,"non_2xx":%d,"statuses":{%s},"exhausted":%d,"requests":%d,' ..
    '"errors":%d,"seconds":%.6f,"p50_ms":%.3f,"p99_ms":%.3f}\n',
    all_ok, all_bad, table.concat(parts, ","), all_exhausted, summary.requests,
    e.connect + e.read + e.write + e.timeout, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
