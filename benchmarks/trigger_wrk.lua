-- wrk script of the trigger benchmark (benchmarks/bench_trigger.py):
--   wrk -s benchmarks/trigger_wrk.lua URL -- CAMPAIGN_ID API_KEY RUN_TAG PROFILES
-- Every request is a unitary call for one known profile with its own requestId
-- (RUN_TAG-thread-counter), so each one is a new idempotency key and a new execution.
-- Responses other than 202 are counted; done() prints one line, "BENCH {json}".

local threads = {}
local thread_number = 0

function setup(thread)
  thread_number = thread_number + 1
  thread:set("thread_id", thread_number)
  table.insert(threads, thread)
end

function init(args)
  campaign_id = args[1]
  run_tag = args[3]
  profiles = tonumber(args[4])
  counter = 0
  non_202 = 0
  first_bad = ""
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. args[2]
end

function request()
  counter = counter + 1
  -- Spread the calls over the known profiles (the thread id keeps threads apart).
  local profile = (counter * 7919 + thread_id * 104729) % profiles
  local body = string.format(
    '{"requestId":"%s-%d-%d","campaignId":"%s","recipients":[{"type":"aep",'
      .. '"namespace":"email","userId":"person%d@example.com",'
      .. '"context":{"product":{"name":"Jackets"},"orderId":"%d"}}]}',
    run_tag, thread_id, counter, campaign_id, profile, counter
  )
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  if status ~= 202 then
    non_202 = non_202 + 1
    if first_bad == "" then
      first_bad = tostring(status) .. " " .. string.sub(body or "", 1, 300)
    end
  end
end

function done(summary, latency, requests)
  local bad = 0
  local sample = ""
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("non_202")
    if sample == "" then sample = thread:get("first_bad") end
  end
  local errors = summary.errors
  sample = string.gsub(string.gsub(sample, "\\", "\\\\"), '"', '\\"')
  sample = string.gsub(sample, "[%c]", " ")
  io.write(string.format(
    'BENCH {"requests":%d,"duration_us":%d,"non_202":%d,"connect_errors":%d,'
      .. '"read_errors":%d,"write_errors":%d,"timeouts":%d,'
      .. '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f,"first_bad":"%s"}\n',
    summary.requests, summary.duration, bad, errors.connect, errors.read, errors.write,
    errors.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean, sample
  ))
end
