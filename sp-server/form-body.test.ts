// The form parser answers as fast-querystring (@fastify/formbody's default) does, on well-formed and malformed input alike.
import { randomBytes } from 'node:crypto';
import { parse as fastQuerystring } from 'fast-querystring';
import { describe, expect, it } from 'vitest';
import { parseForm } from './form-body.ts';

const plain = (o: object) => ({ ...o });

describe('parseForm', () => {
  const cases = [
    '',
    'a=1',
    'a=1&b=2&a=3&a=4',
    'SAMLResponse=' + encodeURIComponent(randomBytes(300).toString('base64')) + '&RelayState=x%20y',
    'a+b=c+d&e=%2B%2F%3D',
    '&&a=&=b&c&d=1=2&&',
    'bad=%ZZ&trunc=%4&lone=%&utf=%C3%A9&broken=%C3%28&surrogate=%ED%A0%80&plus=%ZZ+x',
    'k%3D=v%26&%E2%82%AC=%F0%9F%98%80',
    '__proto__=x&constructor=y&toString=z',
    'caf\u00e9=th\u00e9&a=b',
  ];
  it.each(cases)('%j', (input) => {
    const ours = parseForm(input);
    expect(Object.getPrototypeOf(ours)).toBe(null);
    expect(plain(ours)).toEqual(plain(fastQuerystring(input)));
  });

  it('agrees on random input from the characters that matter', () => {
    const alphabet = ['a', 'b', '=', '&', '+', '%', '2', 'B', 'C', '3', 'F', 'e', '9', '\u00e9'];
    for (let n = 0; n < 1000; n++) {
      const input = Array.from({ length: 1 + (n % 24) }, () => alphabet[Math.floor(Math.random() * alphabet.length)]).join('');
      expect(plain(parseForm(input)), input).toEqual(plain(fastQuerystring(input)));
    }
  });
});
