import { ProblemError } from '../../src/api/problem';
import { ingestGate } from '../../src/api/load-shedding';

describe('ingestGate', () => {
  it('admits up to the limit, then answers 503 with Retry-After until events are released', () => {
    const gate = ingestGate(10);
    const first = gate.admit(6);
    const second = gate.admit(4);
    expect(gate.pending).toBe(10);
    let refusal: unknown;
    try {
      gate.admit(1);
    } catch (err) {
      refusal = err;
    }
    expect(refusal).toBeInstanceOf(ProblemError);
    expect((refusal as ProblemError).status).toBe(503);
    expect((refusal as ProblemError).headers['Retry-After']).toBe('1');
    first();
    first(); // releasing twice frees the events once
    expect(gate.pending).toBe(4);
    expect(() => gate.admit(6)).not.toThrow();
    second();
  });

  it('lets an idle process take one batch larger than the limit', () => {
    const gate = ingestGate(100);
    const release = gate.admit(500);
    expect(() => gate.admit(1)).toThrow(ProblemError);
    release();
    expect(gate.pending).toBe(0);
  });
});
