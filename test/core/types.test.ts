import { describe, expectTypeOf, it } from 'vitest';
import type { MarketDataError } from '../../src/core/errors.js';
import type { MarketData, StreamResult } from '../../src/core/types.js';

async function* results(): AsyncGenerator<StreamResult> {}

describe('StreamResult', () => {
  it('narrows [data, err] to MarketData after the error check', async () => {
    for await (const [data, err] of results()) {
      if (err) {
        expectTypeOf(err).toEqualTypeOf<MarketDataError>();
        continue;
      }
      expectTypeOf(data).toEqualTypeOf<MarketData>();
    }
  });
});
