-- wrk script for bench/run: GraphQL reads, the plain-HTTP floor, or editSection mutations.
--
--   wrk -t T -c C -d S -s bench/load.lua http://127.0.0.1:PORT -- MODE TOKEN PLANS RATE THREADS
--
-- MODE   read  : POST /graphql, a plan query (the plan's id, status, stages, blockers, sections)
--        floor : GET /plans/<id>.json, the same projection served by plain axum
--        edit  : POST /graphql, editSection on PLANS (comma-separated; each thread takes its own
--                share) x the six sections, each request a different text
--        page  : GET /plans/<id>, the web application's plan page, as a signed-in person
--        home  : GET /, the web application's "Waiting on you", as a signed-in person
--        board : GET /groups/<id>, a group's board of its members' plans, as a signed-in reader
-- TOKEN  bearer token (page, home: the session cookie, name=value)
-- PLANS  plan id (read, floor), comma-separated plan ids (edit) or a group id (board)
-- RATE   target requests/s for the whole run (all threads), or 0 for no pacing (saturation)
-- THREADS the -t value (to split RATE between the threads)
--
-- Every response body is checked (a 200 with the plan id and, for GraphQL, no "errors"); done()
-- prints one JSON line with the latency percentiles (microseconds), counts and failures.
--
-- Pacing is closed-loop: delay() holds each request back until its slot on a per-thread schedule
-- (t0 + k / thread rate), so the achieved rate stays close to the target while the server keeps
-- up. Latency is measured from the moment a request is sent, so time a request waited because
-- every connection was busy is not counted (coordinated omission; wrk2 would correct it).

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk_id, bench_timespec *tp);
]]
local ts = ffi.new("bench_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local threads = {}
local thread_count = 0

function setup(thread)
  thread_count = thread_count + 1
  thread:set("tid", thread_count)
  table.insert(threads, thread)
end

local SECTIONS = {
  "achievements", "transforming-services", "technology-and-data",
  "reducing-wasteful-spend", "barriers", "measuring-delivery",
}

local READ_QUERY = "query($id: ID!) { plan(id: $id) { id status revision currentStage { id } " ..
  "stages { id title kind status deadline requirements { role satisfied council { id } } " ..
  "signOffs { role person { id } at planRevision stale } } " ..
  "blockers { stage code message } sections { id revision text } } }"

local EDIT_QUERY = "mutation($p: ID!, $s: ID!, $t: String!) { editSection(input: " ..
  "{planId: $p, sectionId: $s, text: $t}) { plan { id revision } } }"

local function split(s)
  local out = {}
  for item in string.gmatch(s, "[^,]+") do table.insert(out, item) end
  return out
end

-- Per-thread state (each wrk thread has its own Lua state).
local token, plans, fixed_request, interval_ms
local t0, slot, counter = nil, 0, 0
failures, responses, sample, mode, body_bytes = 0, 0, "", nil, 0

function init(args)
  mode, token, plans = args[1], args[2], split(args[3])
  local rate, thread_total = tonumber(args[4] or "0"), tonumber(args[5] or "1")
  if rate > 0 then
    interval_ms = 1000 * thread_total / rate
  end
  local headers = { ["Authorization"] = "Bearer " .. token }
  if mode == "page" or mode == "home" or mode == "board" then
    headers = { ["Cookie"] = token }
  end
  if mode == "page" then
    fixed_request = wrk.format("GET", "/plans/" .. plans[1], headers, nil)
  elseif mode == "home" then
    fixed_request = wrk.format("GET", "/", headers, nil)
  elseif mode == "board" then
    -- `plans` holds the group's id.
    fixed_request = wrk.format("GET", "/groups/" .. plans[1], headers, nil)
  elseif mode == "read" then
    headers["Content-Type"] = "application/json"
    local body = string.format('{"query":"%s","variables":{"id":"%s"}}', READ_QUERY, plans[1])
    fixed_request = wrk.format("POST", "/graphql", headers, body)
  elseif mode == "floor" then
    fixed_request = wrk.format("GET", "/plans/" .. plans[1] .. ".json", headers, nil)
  elseif mode == "edit" then
    headers["Content-Type"] = "application/json"
    edit_headers = headers
    -- Each thread edits its own share of the plans, round-robin, so two requests in flight on
    -- the same plan (which the service retries, and refuses as CONFLICT past its retry budget)
    -- only happen when more requests are in flight on a thread than it has plans.
    local mine = {}
    for i, plan in ipairs(plans) do
      if (i - 1) % thread_total == (tid - 1) % thread_total then table.insert(mine, plan) end
    end
    if #mine > 0 then edit_plans = mine else edit_plans = plans end
  else
    error("unknown mode " .. tostring(mode))
  end
  expect_plan = '"' .. plans[1] .. '"'
  if mode == "page" then expect_plan = "/plans/" .. plans[1] .. "/print" end
  if mode == "home" then expect_plan = "<h1 class=\"govuk-heading-l\">Waiting on you</h1>" end
  if mode == "board" then expect_plan = "aria-sort=" end
end

function request()
  if fixed_request then return fixed_request end
  counter = counter + 1
  local plan = edit_plans[(counter % #edit_plans) + 1]
  local section = SECTIONS[(math.floor(counter / #edit_plans) % #SECTIONS) + 1]
  local text = string.format("Bench edit %d from thread %d: %s", counter, tid,
    string.rep("delivery and savings ", 8))
  local body = string.format('{"query":"%s","variables":{"p":"%s","s":"%s","t":"%s"}}',
    EDIT_QUERY, plan, section, text)
  return wrk.format("POST", "/graphql", edit_headers, body)
end

function delay()
  if not interval_ms then return 0 end
  local t = now_ms()
  if not t0 then t0 = t end
  local due = t0 + slot * interval_ms
  slot = slot + 1
  local d = due - t
  if d <= 0 then return 0 end
  return math.floor(d + 0.5)
end

local function fail(status, body)
  failures = failures + 1
  if sample == "" then
    sample = string.format("HTTP %d: %s", status, string.sub(body or "", 1, 300))
  end
end

function response(status, headers, body)
  responses = responses + 1
  body_bytes = #body
  if status ~= 200 then return fail(status, body) end
  if mode == "edit" then
    if string.find(body, '"errors"', 1, true) or not string.find(body, '"revision"', 1, true) then
      return fail(status, body)
    end
  else
    if not string.find(body, expect_plan, 1, true) then return fail(status, body) end
    if mode == "read" and string.find(body, '"errors"', 1, true) then return fail(status, body) end
  end
end

local function json_string(s)
  s = string.gsub(s, '[%c"\\]', function(c)
    if c == '"' then return '\\"' elseif c == "\\" then return "\\\\" end
    return string.format("\\u%04x", string.byte(c))
  end)
  return '"' .. s .. '"'
end

function done(summary, latency, requests)
  local f, r, first, bytes = 0, 0, "", 0
  local m = threads[1] and threads[1]:get("mode") or "?"
  for _, thread in ipairs(threads) do
    f = f + (thread:get("failures") or 0)
    r = r + (thread:get("responses") or 0)
    local s = thread:get("sample") or ""
    if first == "" then first = s end
    bytes = math.max(bytes, thread:get("body_bytes") or 0)
  end
  local e = summary.errors
  local socket_errors = e.connect + e.read + e.write + e.timeout
  io.write(string.format(
    '{"mode":%s,"requests":%d,"responses_checked":%d,"duration_s":%.6f,"per_s":%.3f,' ..
    '"p50_ms":%.4f,"p90_ms":%.4f,"p99_ms":%.4f,"max_ms":%.4f,"mean_ms":%.4f,' ..
    '"body_bytes":%d,"failures":%d,"socket_errors":%d,"status_errors":%d,"timeouts":%d,' ..
    '"failure_sample":%s}\n',
    json_string(m), summary.requests, r, summary.duration / 1e6,
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, latency.mean / 1000,
    bytes, f, socket_errors, e.status, e.timeout, json_string(first)))
end
