-- Posts pre-signed bodies from a file (one "signature<TAB>body" per line), a distinct slice per
-- thread, each body once (a thread that runs out wraps around and says so in the summary).
-- Usage: wrk ... -s post.lua URL -- PATH FILE NTHREADS
-- done() prints one line "BENCH {json}" that benchmarks/throughput.py reads.
local counter = 0
local threads = {}

function setup(thread)
  thread:set("id", counter)
  table.insert(threads, thread)
  counter = counter + 1
end

function init(args)
  path = args[1]
  file = args[2]
  nthreads = tonumber(args[3])
  lines = {}
  local n = 0
  for line in io.lines(file) do
    if n % nthreads == id then
      local tab = line:find("\t")
      table.insert(lines, {line:sub(1, tab - 1), line:sub(tab + 1)})
    end
    n = n + 1
  end
  count = #lines
  i = 0
  non2xx = 0
end

function request()
  i = i + 1
  local item = lines[((i - 1) % count) + 1]
  return wrk.format("POST", path, {["Content-Type"] = "application/json", ["X-Atiende-Signature"] = item[1]}, item[2])
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
end

function done(summary, latency, requests)
  local wrapped = 0
  local bad = 0
  for _, thread in ipairs(threads) do
    if thread:get("i") > thread:get("count") then
      wrapped = 1
    end
    bad = bad + thread:get("non2xx")
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "connect_errors": %d, "read_errors": %d, "write_errors": %d, ' ..
    '"timeouts": %d, "non2xx": %d, "wrapped": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.timeout, bad, wrapped,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
