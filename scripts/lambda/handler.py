"""Test handler for the Python function image: the event's "action" picks a behaviour."""
import http.client, os, socket, sys, time

count = 0


def handler(event, context):
    global count
    a = (event or {}).get("action") if isinstance(event, dict) else None
    if a == "throw":
        raise ValueError("handler threw on purpose")
    if a == "exit":
        os._exit(3)
    if a == "sleep":
        print("sleeping in", context.aws_request_id, flush=True)
        time.sleep(event.get("ms", 60000) / 1000)
    if a == "log":
        print("log line from", context.function_name, flush=True)
    if a == "logbig":
        # More than a pipe holds, then one last line: the tail must end with it.
        sys.stdout.write("x" * event.get("n", 200000) + "\nlast log line of " + context.aws_request_id + "\n")
        sys.stdout.flush()
    if a == "count":
        count += 1
        return {"n": count, "pid": os.getpid()}
    if a == "env":
        return {"fn": os.environ.get("AWS_LAMBDA_FUNCTION_NAME"), "id": context.aws_request_id,
                "arn": context.invoked_function_arn}
    if a == "echo":
        return event
    if a == "sec":
        status = dict(l.split(":", 1) for l in open("/proc/self/status").read().splitlines())
        return {k: status[k].strip() for k in ("CapEff", "CapBnd", "Seccomp", "NoNewPrivs", "Uid")} | {
            "hostname": socket.gethostname(), "links": sorted(os.listdir("/sys/class/net"))}
    if a == "forge":
        # Another invocation's id posted from this environment's Runtime API.
        c = http.client.HTTPConnection(os.environ["AWS_LAMBDA_RUNTIME_API"])
        c.request("POST", "/2018-06-01/runtime/invocation/%s/response" % event["id"], body=b'"forged"')
        return {"status": c.getresponse().status}
    return "ok"
