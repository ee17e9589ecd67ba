// Integration hooks start real processes; the default 5 s hook timeout is too short for them.
jest.setTimeout(120_000);
