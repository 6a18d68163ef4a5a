import type { Context } from 'aws-lambda';

export interface LambdaContextOptions {
  readonly functionName: string;
  readonly requestId: string;
  /** The function's timeout: getRemainingTimeInMillis() counts down from it. */
  readonly timeoutMs: number;
  readonly region?: string;
}

/**
 * A Lambda context for running a handler outside Lambda (`serverless-proxysql local`, the runtime tests): what
 * the handlers read of it is the request id and the remaining time.
 */
export function lambdaContextFor(options: LambdaContextOptions): Context {
  const deadline = Date.now() + options.timeoutMs;
  const region = options.region ?? 'local';
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: options.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:000000000000:function:${options.functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: options.requestId,
    logGroupName: `/aws/lambda/${options.functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
