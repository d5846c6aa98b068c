// Jest environment for tests that run onnxruntime-node (any spec that scores with OnnxScorer).
//
// Why: jest runs each test file in its own vm context, whose Float32Array is not Node's main-realm Float32Array.
// onnxruntime-node's native binding creates output tensors' typed arrays in the main realm, and onnxruntime-common
// (loaded inside the test context) checks `data instanceof Float32Array` against the context's constructor, so
// every session.run() fails with "A float32 tensor's data must be type of function Float32Array()". Production
// (plain Node, one realm) is unaffected.
//
// Fix: share the main realm's typed-array constructors with the test context, as jest-environment-node already
// does for Uint8Array and ArrayBuffer.
//
// Use: per file, a docblock at the very top:   /** @jest-environment ./libs/ranker/testing/onnx-jest-environment.js */
// or for the whole suite, in jest.config.js:    testEnvironment: '<rootDir>/libs/ranker/testing/onnx-jest-environment.js'
const { TestEnvironment } = require('jest-environment-node');

const SHARED = [
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
  'Float16Array',
  'ArrayBuffer',
  'DataView',
];

class OnnxNodeEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of SHARED) {
      if (typeof globalThis[name] === 'function') this.global[name] = globalThis[name];
    }
  }
}

module.exports = OnnxNodeEnvironment;
module.exports.TestEnvironment = OnnxNodeEnvironment;
