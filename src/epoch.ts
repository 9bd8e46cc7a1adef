/**
 * SOURCE_DATE_EPOCH, read by one rule (the README's): every timestamp reqset
 * writes (in packages, extracted trees, images, and the environment of wheel
 * builds) is the variable's value when it is set, else 1980-01-01.
 */
import { InputError } from './errors.ts';

/** 1980-01-01T00:00:00Z: the earliest time a zip (so a wheel) can hold. */
export const EARLIEST_EPOCH = 315532800;

/** Whole seconds since 1970, no earlier than 1980-01-01; unset or empty: 1980-01-01. A bad value is bad input. */
export function sourceDateEpoch(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.SOURCE_DATE_EPOCH?.trim();
  if (raw === undefined || raw === '') return EARLIEST_EPOCH;
  const value = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(value) || value < EARLIEST_EPOCH) {
    throw new InputError(
      `SOURCE_DATE_EPOCH=${JSON.stringify(env.SOURCE_DATE_EPOCH)} is not usable: give whole seconds since 1970, no earlier than ${EARLIEST_EPOCH} (1980-01-01, the earliest time a wheel can hold), or unset it for 1980-01-01`,
    );
  }
  return value;
}
