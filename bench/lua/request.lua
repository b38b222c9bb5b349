-- One fixed request for every connection: `wrk ... -s request.lua -- METHOD [BODY_FILE]`.
-- Headers come from wrk's -H. Defining no request()/response() keeps wrk on its fast path:
-- the request is formatted once and responses are not handed to Lua.

function init(args)
  wrk.method = args[1] or "GET"
  if args[2] and args[2] ~= "-" then
    local f = assert(io.open(args[2], "rb"))
    wrk.body = f:read("*a")
    f:close()
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,' ..
    '"max_us":%d,"mean_us":%.1f,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    e.connect, e.read, e.write, e.status, e.timeout))
end
