'use strict';
// Jest's node environment, with Node's own typed-array constructors. Each
// suite runs in its own realm, whose Float32Array is not the one native
// addons return: ONNX Runtime checks the typed arrays of its tensors with
// instanceof, and would refuse its own outputs.
const { TestEnvironment } = require('jest-environment-node');

class AlliedEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of ['Float32Array', 'Float64Array', 'Int32Array', 'Uint32Array', 'Int16Array', 'Uint16Array', 'Int8Array', 'BigInt64Array', 'BigUint64Array']) {
      this.global[name] = globalThis[name];
    }
  }
}

module.exports = AlliedEnvironment;
