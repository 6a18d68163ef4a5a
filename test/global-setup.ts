// The constructs deploy prebuilt Lambda bundles (src/runtime-assets.ts): build them from the current source
// before any test synthesizes, so a test never sees a stale bundle.
import { buildLambdaAssets } from '../scripts/build-assets';

export default function setup(): void {
  buildLambdaAssets();
}
