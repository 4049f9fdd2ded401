-- wrk script for bench/signup.sh: POSTs a JSON signup with a new address each time, to the path given on the
-- command line (/subscribe, or /bench/bare for the yardstick). Prints status codes and p50/p99 at the end.
local counter = 0
local threads = {}
local run = os.time()

function setup(thread)
    thread:set("id", #threads)
    table.insert(threads, thread)
end

function init(args)
    path = args[1] or "/subscribe"
    statuses = {}
end

function request()
    counter = counter + 1
    local body = string.format(
        '{"email":"wrk%d.%d.%d@mail%d.example","platforms":["facebook","instagram"],"locale":"de"}',
        run, id, counter, counter % 997)
    return wrk.format("POST", path, { ["Content-Type"] = "application/json" }, body)
end

function response(status, headers, body)
    statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
    local codes = {}
    for _, thread in ipairs(threads) do
        for status, n in pairs(thread:get("statuses")) do
            codes[status] = (codes[status] or 0) + n
        end
    end
    local parts = {}
    for status, n in pairs(codes) do
        table.insert(parts, string.format("%d:%d", status, n))
    end
    io.write(string.format("RESULT requests=%d seconds=%.3f p50_ms=%.2f p99_ms=%.2f errors=%d statuses=%s\n",
        summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
        summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
        table.concat(parts, ",")))
end
