// Test and benchmark handler for the Node function image (scripts/make-lambda-images).
// The event's "action" picks a behaviour, so one image covers every path.
export const handler = async (event, context) => {
  const a = event && event.action;
  if (a === "throw") throw new TypeError("handler threw on purpose");
  if (a === "exit") process.exit(3);
  if (a === "sleep") await new Promise((r) => setTimeout(r, event.ms || 60000));
  if (a === "log") console.log("log line from", context.functionName);
  if (a === "env") return { fn: process.env.AWS_LAMBDA_FUNCTION_NAME, mem: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE, handler: process.env._HANDLER, task: process.env.LAMBDA_TASK_ROOT, region: process.env.AWS_REGION, id: context.awsRequestId, arn: context.invokedFunctionArn, left: context.getRemainingTimeInMillis() };
  if (a === "count") { globalThis.n = (globalThis.n || 0) + 1; return { n: globalThis.n, pid: process.pid }; }
  if (a === "big") return "x".repeat(event.n);
  if (a === "echo") return event;
  return "ok";
};
