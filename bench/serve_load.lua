-- wrk script for bench/serve_load.sh: every request is one page a triaging analyst
-- would open, picked at random: the newest findings, filters by status, severity,
-- category, rule, repository path, file name, scan, a later page, one finding, the
-- scans, exposure and audit pages. The session cookie, later-page cursors and
-- fingerprints come from the environment (the shell script signs in and reads them).
local cookie = os.getenv("LEAKHOUND_COOKIE") or ""
local function lines(name)
  local out = {}
  local f = io.open(os.getenv(name) or "", "r")
  if f then
    for line in f:lines() do out[#out + 1] = line end
    f:close()
  end
  return out
end
local nexts = lines("LEAKHOUND_NEXT_PAGES")
local fingerprints = lines("LEAKHOUND_FINGERPRINTS")

local pages = {
  function() return "/findings" end,
  function() return "/findings?status=open" end,
  function() return "/findings?status=false-positive" end,
  function() return "/findings?severity=critical" end,
  function() return "/findings?category=secret&severity=critical&status=open" end,
  function() return "/findings?rule=vin&status=open" end,
  function() return string.format("/findings?path=repo-%03d%%2F", math.random(0, 199)) end,
  function() return string.format("/findings?path=file-%d.", math.random(0, 1012)) end,
  function() return string.format("/findings?new_in=%d", math.random(1, 20)) end,
  function() return nexts[math.random(#nexts)] end,
  function() return "/findings/" .. fingerprints[math.random(#fingerprints)] end,
  function() return "/findings/" .. fingerprints[math.random(#fingerprints)] end,
  function() return "/scans" end,
  function() return "/exposure" end,
  function() return "/audit" end,
}

-- Think time between one client's pages (LEAKHOUND_THINK_MS, mean; 0 for none):
-- clients that never pause measure the server's capacity, not what users see.
local think = tonumber(os.getenv("LEAKHOUND_THINK_MS") or "1000")
delay = function()
  if think <= 0 then return 0 end
  return math.random(math.floor(think / 2), think + math.floor(think / 2))
end

request = function()
  local path = pages[math.random(#pages)]()
  return wrk.format("GET", path, { ["Cookie"] = "leakhound_session=" .. cookie })
end

done = function(summary, latency, requests)
  io.write(string.format(
    "requests %d, errors: connect %d read %d write %d status %d timeout %d\n",
    summary.requests, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.status, summary.errors.timeout))
  for _, p in ipairs({ 50, 90, 99, 99.9 }) do
    io.write(string.format("p%g %.1f ms\n", p, latency:percentile(p) / 1000))
  end
end
