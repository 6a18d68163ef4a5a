import { App } from 'aws-cdk-lib';
import { buildReferenceApp } from './build-app';

// `cdk synth` / `cdk deploy` entry point (cdk.json). `npm run synth` uses app/synth.ts instead.
buildReferenceApp(new App()).app.synth();
