/** SOURCE_DATE_EPOCH read by one rule everywhere: the value when set, else 1980-01-01; a bad value is bad input. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EARLIEST_EPOCH, sourceDateEpoch } from '../../src/epoch.ts';
import { InputError } from '../../src/errors.ts';

describe('sourceDateEpoch', () => {
  it('unset or empty: 1980-01-01, the earliest time a wheel can hold', () => {
    assert.equal(new Date(EARLIEST_EPOCH * 1000).toISOString(), '1980-01-01T00:00:00.000Z');
    assert.equal(sourceDateEpoch({}), EARLIEST_EPOCH);
    assert.equal(sourceDateEpoch({ SOURCE_DATE_EPOCH: '' }), EARLIEST_EPOCH);
  });

  it('whole seconds from 1980 on, surrounding blanks allowed', () => {
    assert.equal(sourceDateEpoch({ SOURCE_DATE_EPOCH: '1700000000' }), 1700000000);
    assert.equal(sourceDateEpoch({ SOURCE_DATE_EPOCH: ' 315532800\n' }), EARLIEST_EPOCH);
  });

  it('anything else is bad input that says what to give', () => {
    for (const bad of ['yesterday', '1.5e9', '-1', '0', '315532799', '1700000000.5', '99999999999999999999']) {
      assert.throws(() => sourceDateEpoch({ SOURCE_DATE_EPOCH: bad }), (e: unknown) => e instanceof InputError && /^SOURCE_DATE_EPOCH=".*" is not usable: give whole seconds since 1970, no earlier than 315532800/.test(e.message), bad);
    }
  });
});
