-- wrk script for bench/run: POST /v1/token with a different pre-signed envelope each time.
--
--   wrk -s bench/bodies.lua URL -- BODIES_FILE THREADS
--
-- BODIES_FILE holds one JSON envelope per line (examples/bench_presign.rs). wrk thread i
-- of THREADS keeps the lines whose number is i modulo THREADS, so no two requests of a run
-- share an envelope. Should a thread run out, it starts its slice again: those requests
-- are replays the service refuses, and done() reports the thread as exhausted so that
-- bench/run can refuse the measurement.

local threads = {}

function setup(thread)
   thread:set("id", #threads)
   table.insert(threads, thread)
end

function init(args)
   local path = args[1]
   local count = tonumber(args[2])
   bodies = {}
   local line_number = 0
   for line in io.lines(path) do
      if line_number % count == id then
         bodies[#bodies + 1] = line
      end
      line_number = line_number + 1
   end
   next_body = 0
   exhausted = 0
   headers = { ["Content-Type"] = "application/json" }
end

function request()
   next_body = next_body + 1
   if next_body > #bodies then
      next_body = 1
      exhausted = 1
   end
   return wrk.format("POST", "/v1/token", headers, bodies[next_body])
end

function done(summary, latency, requests)
   local exhausted_threads = 0
   for _, thread in ipairs(threads) do
      exhausted_threads = exhausted_threads + thread:get("exhausted")
   end
   io.write(string.format("bodies_exhausted_threads %d\n", exhausted_threads))
end
