import { describe, expect, test } from 'vitest';
import {
  choosePartSize,
  DEFAULT_PART_SIZE,
  GiB,
  MAX_OBJECT_SIZE,
  MAX_PART_SIZE,
  MAX_PARTS,
  MiB,
  MIN_PART_SIZE,
  partCount,
  partRange,
  TiB,
} from './parts.js';

describe('choosePartSize', () => {
  test('small files get the default part size', () => {
    expect(choosePartSize(0)).toBe(DEFAULT_PART_SIZE);
    expect(choosePartSize(1)).toBe(DEFAULT_PART_SIZE);
    expect(choosePartSize(100 * MiB)).toBe(DEFAULT_PART_SIZE);
  });
  test('a preferred size below 5 MiB is raised to 5 MiB', () => {
    expect(choosePartSize(100 * MiB, { preferred: 1 })).toBe(MIN_PART_SIZE);
  });
  test('a preferred size is rounded up to a whole MiB', () => {
    expect(choosePartSize(100 * MiB, { preferred: 8 * MiB + 1 })).toBe(9 * MiB);
  });
  test('large files grow the part so they fit in 10,000 parts', () => {
    const size = 1 * TiB;
    const ps = choosePartSize(size);
    expect(partCount(size, ps)).toBeLessThanOrEqual(MAX_PARTS);
    expect(ps % MiB).toBe(0);
    expect(ps).toBe(105 * MiB); // ceil(1 TiB / 10,000) = 104.86 MiB
  });
  test('the largest object fits', () => {
    const ps = choosePartSize(MAX_OBJECT_SIZE);
    expect(ps).toBeLessThanOrEqual(MAX_PART_SIZE);
    expect(partCount(MAX_OBJECT_SIZE, ps)).toBeLessThanOrEqual(MAX_PARTS);
  });
  test('a policy maxParts is respected', () => {
    const ps = choosePartSize(10 * GiB, { maxParts: 100 });
    expect(partCount(10 * GiB, ps)).toBeLessThanOrEqual(100);
  });
  test('rejects impossible input', () => {
    expect(() => choosePartSize(-1)).toThrow(RangeError);
    expect(() => choosePartSize(1.5)).toThrow(RangeError);
    expect(() => choosePartSize(MAX_OBJECT_SIZE + 1)).toThrow(RangeError);
    expect(() => choosePartSize(MAX_OBJECT_SIZE, { maxParts: 10 })).toThrow(/5 GiB/);
    expect(() => choosePartSize(10, { preferred: Number.NaN })).toThrow(RangeError);
  });
  test('is a pure function of its input (resume re-chunks identically)', () => {
    for (const size of [0, 5 * MiB - 1, 5 * MiB + 1, 3 * GiB + 7, 777 * GiB]) {
      expect(choosePartSize(size, { preferred: 8 * MiB })).toBe(choosePartSize(size, { preferred: 8 * MiB }));
    }
  });
});

describe('partCount and partRange', () => {
  test('an empty file is one empty part', () => {
    expect(partCount(0, MIN_PART_SIZE)).toBe(1);
    expect(partRange(1, MIN_PART_SIZE, 0)).toEqual({ partNumber: 1, start: 0, end: 0, size: 0 });
  });
  test('parts are equal but the last, and cover the file exactly', () => {
    const size = 3 * MIN_PART_SIZE + 123;
    expect(partCount(size, MIN_PART_SIZE)).toBe(4);
    let covered = 0;
    for (let n = 1; n <= 4; n++) {
      const r = partRange(n, MIN_PART_SIZE, size);
      expect(r.start).toBe(covered);
      covered = r.end;
      expect(r.size).toBe(n < 4 ? MIN_PART_SIZE : 123);
    }
    expect(covered).toBe(size);
  });
  test('exact multiples have no empty trailing part', () => {
    expect(partCount(2 * MIN_PART_SIZE, MIN_PART_SIZE)).toBe(2);
    expect(partRange(2, MIN_PART_SIZE, 2 * MIN_PART_SIZE).size).toBe(MIN_PART_SIZE);
  });
  test('part numbers outside 1..count throw', () => {
    expect(() => partRange(0, MIN_PART_SIZE, 10)).toThrow(RangeError);
    expect(() => partRange(2, MIN_PART_SIZE, 10)).toThrow(RangeError);
    expect(() => partCount(10, 0)).toThrow(RangeError);
  });
});
