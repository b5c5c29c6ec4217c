"""Test handler for the Python function image: the event's "action" picks a behaviour."""
import os, sys, time

count = 0


def handler(event, context):
    global count
    a = (event or {}).get("action") if isinstance(event, dict) else None
    if a == "throw":
        raise ValueError("handler threw on purpose")
    if a == "exit":
        os._exit(3)
    if a == "sleep":
        time.sleep(event.get("ms", 60000) / 1000)
    if a == "log":
        print("log line from", context.function_name, flush=True)
    if a == "count":
        count += 1
        return {"n": count, "pid": os.getpid()}
    if a == "env":
        return {"fn": os.environ.get("AWS_LAMBDA_FUNCTION_NAME"), "id": context.aws_request_id,
                "arn": context.invoked_function_arn}
    if a == "echo":
        return event
    return "ok"
