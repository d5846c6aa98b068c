// One jest config for unit tests (beside the code) and end-to-end tests (test/).
const swc = [
  '@swc/jest',
  {
    jsc: {
      target: 'es2022',
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
    },
    module: { type: 'commonjs' },
  },
];
module.exports = {
  // Node's own typed arrays inside tests, so onnxruntime-node outputs pass instanceof checks (see the file).
  testEnvironment: '<rootDir>/libs/ranker/testing/onnx-jest-environment.js',
  rootDir: __dirname,
  roots: ['<rootDir>/apps', '<rootDir>/libs', '<rootDir>/test', '<rootDir>/tools'],
  testMatch: ['**/*.spec.ts', '**/*.e2e-spec.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '/apps/console/'],
  // A few dependencies ship ESM only; jest on Node 20 cannot require() them, so SWC turns them into CommonJS.
  transform: { '^.+\\.ts$': swc, '/node_modules/(content-disposition|cookie)/.+\\.js$': swc },
  transformIgnorePatterns: ['/node_modules/(?!(content-disposition|cookie)/)'],
  moduleNameMapper: { '^@slotwise/([a-z-]+)$': '<rootDir>/libs/$1/src' },
  testTimeout: 60000,
  // On 2 cores jest runs the files in its own process; a keep-alive socket left by a child-process test (crash,
  // webhooks restart) must not hold CI open after the summary.
  forceExit: true,
};
