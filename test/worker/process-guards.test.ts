import { describe, expect, it } from 'vitest';
import { isClosedSocketWrite } from '../../runtime/process-guards';

function errorWith(message: string, stackFrame: string, type: ErrorConstructor = TypeError): Error {
  const e = new type(message);
  e.stack = `${type.name}: ${message}\n    at nextWrite (${stackFrame})\n    at process.processImmediate (node:internal/timers:485:21)`;
  return e;
}

describe('driver crash guard', () => {
  it("recognises postgres.js writing to a closed socket, in its ESM and CJS builds", () => {
    expect(isClosedSocketWrite(errorWith("Cannot read properties of null (reading 'write')", '/app/node_modules/postgres/src/connection.js:255:22'))).toBe(true);
    expect(isClosedSocketWrite(errorWith("Cannot read properties of null (reading 'write')", '/app/node_modules/postgres/cjs/src/connection.js:255:22'))).toBe(true);
  });

  it('lets every other uncaught error through to stop the process', () => {
    expect(isClosedSocketWrite(errorWith("Cannot read properties of null (reading 'write')", '/app/worker/worker.ts:10:1'))).toBe(false);
    expect(isClosedSocketWrite(errorWith('x is not a function', '/app/node_modules/postgres/src/connection.js:300:1'))).toBe(false);
    expect(isClosedSocketWrite(errorWith("Cannot read properties of null (reading 'write')", '/app/node_modules/postgres/src/connection.js:255:22', Error))).toBe(false);
  });
});
