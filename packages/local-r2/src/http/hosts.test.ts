import { describe, expect, it } from 'vitest';
import { hostMatcher, hostName } from './hosts.js';

const allowed = (check: (h: string | undefined) => void, host: string | undefined) => {
  try {
    check(host);
    return true;
  } catch {
    return false;
  }
};

describe('hostName', () => {
  it('strips the port, lower-cases, keeps IPv6 brackets', () => {
    expect(hostName('Test.LocalHost:9000')).toBe('test.localhost');
    expect(hostName('[::1]:9000')).toBe('[::1]');
    expect(hostName('127.0.0.1')).toBe('127.0.0.1');
    expect(hostName(undefined)).toBe('');
  });
});

describe('hostMatcher', () => {
  it('a wildcard bind address adds no name; a concrete one does', () => {
    for (const listen of ['0.0.0.0', '::']) {
      const check = hostMatcher(listen);
      expect(allowed(check, '0.0.0.0')).toBe(false);
      expect(allowed(check, '[::]')).toBe(false);
      expect(allowed(check, '192.168.1.5:9000')).toBe(false);
      expect(allowed(check, 'localhost:9000')).toBe(true);
    }
    expect(allowed(hostMatcher('192.168.1.5'), '192.168.1.5:9000')).toBe(true);
    expect(allowed(hostMatcher('::1'), '[::1]:1')).toBe(true);
    expect(allowed(hostMatcher('fd00::5'), '[fd00::5]:9000')).toBe(true);
  });

  it('* turns the check off; *.name needs a subdomain', () => {
    expect(allowed(hostMatcher('127.0.0.1', ['*']), 'anything.test')).toBe(true);
    const check = hostMatcher('127.0.0.1', ['*.example.com']);
    expect(allowed(check, 'x.example.com')).toBe(true);
    expect(allowed(check, 'example.com')).toBe(false);
    expect(allowed(check, 'x.example.com.evil.test')).toBe(false);
    expect(allowed(check, '')).toBe(false);
  });
});
