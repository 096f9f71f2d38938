import { expect, test } from 'vitest';
import * as protocol from './index.js';
test('loads', () => { expect(protocol).toBeTypeOf('object'); });
