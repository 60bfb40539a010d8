-- bench/post.lua -- wrk script of the upload scenario: every request is a
-- POST of BENCH_POST_BYTES (default 65536) bytes.
wrk.method = "POST"
wrk.body = string.rep("x", tonumber(os.getenv("BENCH_POST_BYTES") or "65536"))
wrk.headers["Content-Type"] = "application/octet-stream"
