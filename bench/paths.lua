-- wrk script: send GET requests for the paths listed in a file, one per line.
--
--   wrk -t T -c C -d 10s --latency -s bench/paths.lua URL -- PATHS_FILE MODE T
--
-- PATHS_FILE  request paths ("/search?q=..."), one per line, used in file order
-- MODE        "once": a thread stops when its share of the paths is used up, so
--             no path is sent twice (nothing a cache could answer); "cycle":
--             start again from the top (repeated-query mixes)
-- T           the number of wrk threads (-t); thread i sends paths i, i+T, ...
--
-- At the end one line is printed for bench/run.py to read:
--   BENCH_JSON {"requests": ..., "p50_us": ..., ...}
-- "active_us" is how long the threads were sending: the run's duration, or less
-- when every thread ran out of paths first (wrk itself always reports -d).
-- Debian's wrk embeds LuaJIT, whose FFI gives a microsecond clock.

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk_id, bench_timespec *tp);
]]
local CLOCK_MONOTONIC = 1
local ts = ffi.new("bench_timespec")

local function now_us()
   ffi.C.clock_gettime(CLOCK_MONOTONIC, ts)
   return tonumber(ts.tv_sec) * 1e6 + tonumber(ts.tv_nsec) / 1e3
end

local threads = {}
local counter = 0

function setup(thread)
   thread:set("tid", counter)
   counter = counter + 1
   table.insert(threads, thread)
end

function init(args)
   local file, mode, nthreads = args[1], args[2] or "cycle", tonumber(args[3] or "1")
   paths = {}
   for line in io.lines(file) do
      if #line > 0 then
         table.insert(paths, line)
      end
   end
   once = (mode == "once")
   step = nthreads
   idx = tid + 1 -- Lua tables start at 1
   exhausted = 0
   first_us, last_us = 0, 0
end

function request()
   if first_us == 0 then
      first_us = now_us()
   end
   if idx > #paths then
      if once then
         exhausted = 1
         wrk.thread:stop()
      end
      idx = ((idx - 1) % #paths) + 1
   end
   local path = paths[idx]
   idx = idx + step
   return wrk.format("GET", path)
end

function response(status, headers, body)
   last_us = now_us()
end

function done(summary, latency, requests)
   local stopped, active = 0, 0
   for _, thread in ipairs(threads) do
      stopped = stopped + (thread:get("exhausted") or 0)
      local first, last = thread:get("first_us") or 0, thread:get("last_us") or 0
      if last - first > active then
         active = last - first
      end
   end
   if stopped < #threads then
      active = summary.duration -- some thread sent until the end
   end
   local e = summary.errors
   io.write(string.format(
      'BENCH_JSON {"requests": %d, "duration_us": %d, "active_us": %d, "bytes": %d, ' ..
      '"errors_connect": %d, "errors_read": %d, "errors_write": %d, ' ..
      '"errors_status": %d, "errors_timeout": %d, "threads_out_of_paths": %d, ' ..
      '"mean_us": %.1f, "stdev_us": %.1f, "min_us": %d, "max_us": %d, ' ..
      '"p50_us": %d, "p90_us": %d, "p95_us": %d, "p99_us": %d}\n',
      summary.requests, summary.duration, active, summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout, stopped,
      latency.mean, latency.stdev, latency.min, latency.max,
      latency:percentile(50), latency:percentile(90),
      latency:percentile(95), latency:percentile(99)))
end
