export * from './model';
export * from './render';
export * from './secrets';
export * from './query-rules';
export * from './aurora';
export * from './build';
export * from './session-state';
export * from './explain';
