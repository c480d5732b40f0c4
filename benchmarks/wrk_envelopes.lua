-- wrk script of benchmarks/ingest_floor.py: post unique envelopes.
--
--   wrk -s benchmarks/wrk_envelopes.lua URL -- TEMPLATES RUN_ID AUTH
--
-- TEMPLATES is a file of envelope bodies separated by NUL bytes, each with
-- the 32 "f" of its event id where a fresh id goes; RUN_ID (8 hex digits)
-- keeps ids unique across runs. done() prints one line the benchmark reads.

local next_thread = 0

function setup(thread)
  thread:set("thread_id", next_thread)
  next_thread = next_thread + 1
end

function init(args)
  local file = assert(io.open(args[1], "rb"))
  local data = file:read("*a")
  file:close()
  run_id = args[2]
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-sentry-envelope"
  wrk.headers["X-Sentry-Auth"] = args[3]
  templates = {}
  local marker = string.rep("f", 32)
  for body in string.gmatch(data, "[^%z]+") do
    local parts, position = {}, 1
    while true do
      local first, last = string.find(body, marker, position, true)
      if not first then break end
      parts[#parts + 1] = string.sub(body, position, first - 1)
      position = last + 1
    end
    parts[#parts + 1] = string.sub(body, position)
    templates[#templates + 1] = parts
  end
  counter = 0
end

function request()
  counter = counter + 1
  local parts = templates[counter % #templates + 1]
  local id = string.format("%s%08x%016x", run_id, thread_id, counter)
  return wrk.format(nil, nil, nil, table.concat(parts, id))
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    "WRK %d %d %d %d %d\n",
    summary.requests,
    summary.duration,
    errors.status,
    errors.connect + errors.read + errors.write + errors.timeout,
    latency:percentile(99)
  ))
end
