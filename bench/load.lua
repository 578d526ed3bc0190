-- bench/load.lua - the wrk script of bench/load.sh: POSTs real articles to
-- /v1/extract (each file as application/json when it ends in .json, else as
-- text/plain), and one request in EVERY a malformed one, in turn: invalid
-- JSON, invalid UTF-8, a schema error, a bad format argument, a wrong
-- content type, a wrong method, an unknown path, a body over --max-body.
-- Counts the answers by status and kind; done() prints them as `load:` lines.
--   wrk -s bench/load.lua URL -- LIST EVERY MAX_BODY
local articles, bad = {}, {}
local n, every = 0, 20
counts, sent_bad = {}, 0

local function add_bad(method, path, ctype, body, want)
  bad[#bad + 1] = {method = method, path = path, headers = ctype and {["Content-Type"] = ctype} or {}, body = body, want = want}
end

function init(args)
  for path in io.lines(args[1]) do
    local f = assert(io.open(path, "rb"))
    local body = f:read("*a")
    f:close()
    local ctype = path:match("%.json$") and "application/json" or "text/plain"
    articles[#articles + 1] = wrk.format("POST", "/v1/extract", {["Content-Type"] = ctype}, body)
  end
  every = tonumber(args[2]) or 20
  local max_body = tonumber(args[3]) or 1048576
  add_bad("POST", "/v1/extract", "application/json", "{\"text\": \"unterminated", 400)
  add_bad("POST", "/v1/extract", "text/plain", "bad \255\254 bytes", 400)
  add_bad("POST", "/v1/extract", "application/json", "{\"text\": 5}", 400)
  add_bad("POST", "/v1/extract?format=xml", "text/plain", "Hackers stole data.", 400)
  add_bad("POST", "/v1/extract", "image/png", "\137PNG", 415)
  add_bad("GET", "/v1/extract", nil, nil, 405)
  add_bad("GET", "/v2/nothing", nil, nil, 404)
  add_bad("POST", "/v1/extract", "text/plain", string.rep("a", max_body + 1), 413)
  for _, b in ipairs(bad) do b.req = wrk.format(b.method, b.path, b.headers, b.body) end
end

-- wrk answers in order on each connection, but response() does not say
-- which connection: the kind is read back from the status (good: 200).
function request()
  n = n + 1
  if every > 0 and n % every == 0 then
    sent_bad = sent_bad + 1
    return bad[math.floor(n / every) % #bad + 1].req
  end
  return articles[n % #articles + 1]
end

function response(status, headers, body)
  local k = tostring(status)
  counts[k] = (counts[k] or 0) + 1
end

local threads = {}
function setup(thread) threads[#threads + 1] = thread end

function done(summary, latency, requests)
  local total, sent = {}, 0
  for _, t in ipairs(threads) do
    sent = sent + t:get("sent_bad")
    for k, v in pairs(t:get("counts")) do total[k] = (total[k] or 0) + v end
  end
  local parts = {}
  for k, v in pairs(total) do parts[#parts + 1] = k .. "=" .. v end
  table.sort(parts)
  io.write(string.format("load: statuses %s\n", table.concat(parts, " ")))
  io.write(string.format("load: malformed sent %d\n", sent))
  io.write(string.format("load: requests %d in %.1f s, %.1f req/s, errors connect %d read %d write %d timeout %d status %d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6), summary.errors.connect,
    summary.errors.read, summary.errors.write, summary.errors.timeout, summary.errors.status))
  io.write(string.format("load: latency p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms\n",
    latency:percentile(50) / 1e3, latency:percentile(90) / 1e3, latency:percentile(99) / 1e3, latency.max / 1e3))
end
