import * as lambda from 'aws-cdk-lib/aws-lambda';

/**
 * The Lambda runtime every function of this library uses, pinned: Node.js 24, the newest Node.js runtime
 * aws-cdk-lib 2.276 offers. Pinned rather than `determineLatestNodeRuntime` so a CDK upgrade never changes a
 * deployed function's runtime behind the user's back.
 */
export const LAMBDA_RUNTIME = lambda.Runtime.NODEJS_24_X;

/** Lambdas of this library run on Graviton: cheaper, and nothing they bundle is architecture-specific. */
export const LAMBDA_ARCHITECTURE = lambda.Architecture.ARM_64;
