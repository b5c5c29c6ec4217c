#!/usr/bin/python3
"""A Lambda custom runtime in the standard library only, following
https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html: loads
_HANDLER ("module.function" under LAMBDA_TASK_ROOT), reports an import
failure to /runtime/init/error, then loops on /runtime/invocation/next."""
import http.client, importlib, json, os, sys, traceback

api = os.environ["AWS_LAMBDA_RUNTIME_API"]
base = "/2018-06-01/runtime"


def post(path, body, headers=None):
    c = http.client.HTTPConnection(api)
    c.request("POST", base + path, body=json.dumps(body).encode(), headers=headers or {})
    r = c.getresponse()
    r.read()
    c.close()
    return r.status


def error_shape(e):
    return {"errorMessage": str(e), "errorType": type(e).__name__,
            "stackTrace": traceback.format_tb(e.__traceback__)}


class Context:
    def __init__(self, h):
        self.aws_request_id = h.get("Lambda-Runtime-Aws-Request-Id")
        self.invoked_function_arn = h.get("Lambda-Runtime-Invoked-Function-Arn")
        self.deadline_ms = int(h.get("Lambda-Runtime-Deadline-Ms", "0"))
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")


try:
    sys.path.insert(0, os.environ.get("LAMBDA_TASK_ROOT", "/var/task"))
    mod, fn = os.environ["_HANDLER"].rsplit(".", 1)
    handler = getattr(importlib.import_module(mod), fn)
except Exception as e:
    post("/init/error", error_shape(e), {"Lambda-Runtime-Function-Error-Type": "Runtime.ImportModuleError"})
    sys.exit(1)

while True:
    c = http.client.HTTPConnection(api)
    c.request("GET", base + "/invocation/next")
    r = c.getresponse()
    event = json.loads(r.read() or b"null")
    ctx = Context(r.headers)
    c.close()
    try:
        result = handler(event, ctx)
    except Exception as e:
        post("/invocation/%s/error" % ctx.aws_request_id, error_shape(e),
             {"Lambda-Runtime-Function-Error-Type": "Unhandled"})
        continue
    post("/invocation/%s/response" % ctx.aws_request_id, result)
